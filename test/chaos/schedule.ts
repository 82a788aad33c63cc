// The fault schedule of a chaos run, drawn from the seed before anything starts, so a run can be
// repeated (`--seed`): kill -9 times and targets, the sink storm's window, and the service restarts.
// Times are ms from the start of the generator; `durationMs` is how long the generator should take.
import { createRng } from '../../deploy/local/generator/rng.ts';

export const KILL_TARGETS = ['relay', 'runner:shipments', 'runner:trailers', 'runner:loads'] as const;
export type KillTarget = (typeof KILL_TARGETS)[number];
export type RestartedService = 'redis' | 'kafka' | 'connect';

export interface ChaosSchedule {
  readonly kills: ReadonlyArray<{ readonly atMs: number; readonly target: KillTarget }>;
  readonly storm: { readonly atMs: number; readonly forMs: number };
  /** Run one after the other (a restart waits for the previous one to be healthy). */
  readonly restarts: ReadonlyArray<{ readonly atMs: number; readonly service: RestartedService }>;
}

export function planSchedule({
  seed,
  durationMs,
  killEveryMs: [minGap, maxGap],
  stormMs,
  serviceRestarts,
}: {
  seed: number;
  durationMs: number;
  killEveryMs: readonly [number, number];
  stormMs: number;
  serviceRestarts: boolean;
}): ChaosSchedule {
  // Its own stream (the generator uses the seed as is), so the two do not mirror each other.
  const rng = createRng(seed ^ 0x5eed_c4a0);
  const between = (lo: number, hi: number) => Math.round(lo + rng.next() * (hi - lo));
  const kills: Array<{ atMs: number; target: KillTarget }> = [];
  // Kills go on past the generator's end while restarts may still be running: at least 3 of them.
  for (let at = between(minGap, maxGap); at < durationMs || kills.length < 3; at += between(minGap, maxGap)) {
    // The relay is the process with the most state in flight: half the kills.
    const target = rng.chance(0.5) ? 'relay' : rng.pick(KILL_TARGETS.slice(1));
    kills.push({ atMs: at, target });
  }
  const storm = { atMs: between(0.1 * durationMs, 0.2 * durationMs), forMs: stormMs };
  const restarts: Array<{ atMs: number; service: RestartedService }> = serviceRestarts
    ? [
        { atMs: between(0.2 * durationMs, 0.3 * durationMs), service: 'redis' },
        { atMs: between(0.4 * durationMs, 0.5 * durationMs), service: 'kafka' },
        { atMs: between(0.65 * durationMs, 0.75 * durationMs), service: 'connect' },
      ]
    : [];
  return { kills, storm, restarts };
}

export function describeSchedule(s: ChaosSchedule): string[] {
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    `kills: ${s.kills.map((k) => `${sec(k.atMs)} ${k.target}`).join(', ')}`,
    `sink storm: ${sec(s.storm.atMs)} for ${sec(s.storm.forMs)}`,
    `restarts: ${s.restarts.length === 0 ? 'none' : s.restarts.map((r) => `${sec(r.atMs)} ${r.service}`).join(', ')}`,
  ];
}
