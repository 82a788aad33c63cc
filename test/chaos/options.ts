// The chaos run's knobs: the full form (`npm run chaos`) and the short form (`--short`, the CI one),
// parsed from the command line. Every random choice comes from `seed`, printed at the start.
import { parseArgs } from 'node:util';

export interface ChaosOptions {
  /** Changes the generator commits. */
  readonly count: number;
  /** Changes per second. */
  readonly rate: number;
  readonly badShare: number;
  readonly seed: number;
  /** A kill -9 of the relay or a random runner every min..max ms while the generator runs. */
  readonly killEveryMs: readonly [number, number];
  /** The Kafka broker, Connect and Redis restarts; off only to look at kills alone. */
  readonly serviceRestarts: boolean;
  /** How long the sink storm (5xx, 429, hangs that time out) lasts. */
  readonly stormMs: number;
  /** How long to wait for the pipeline to drain after the generator and the faults are done. */
  readonly drainTimeoutMs: number;
}

export const FULL: Omit<ChaosOptions, 'seed'> = {
  count: 20_000,
  rate: 100,
  badShare: 0.05,
  killEveryMs: [5000, 10_000],
  serviceRestarts: true,
  stormMs: 20_000,
  drainTimeoutMs: 240_000,
};

export const SHORT: Omit<ChaosOptions, 'seed'> = {
  count: 1500,
  rate: 25,
  badShare: 0.05,
  killEveryMs: [5000, 9000],
  serviceRestarts: true,
  stormMs: 10_000,
  drainTimeoutMs: 120_000,
};

export const HELP = `Usage: npm run chaos [-- options]     (node test/chaos/run.ts [options])

The whole pipeline under faults on the local stack (bin/ferry stack up; FERRY_STATE_DIR and
FERRY_PORT_OFFSET select another stack): the generator writes supply-chain changes into PostgreSQL,
Debezium captures them, three 'ferry transform run' processes validate them, a relay process delivers
them to four mock APIs. Meanwhile a seeded schedule kills (-9) the relay or a random runner every few
seconds and restarts it, restarts Redis (AOF on), the Kafka broker and Kafka Connect once each, and
puts the APIs through a storm of 503s, 429s and hangs that time out. Then it drains and matches every
change by ferry-event-id to its outcome per sink, and exits 1 unless nothing was lost and nothing was
applied twice. It restarts the stack's services: never run it on a stack others are using.

Options:
  --short                  the short form (${SHORT.count} changes at ${SHORT.rate}/s; CI runs it)
  --count <n>              changes to generate (full form ${FULL.count})
  --rate <n>               changes per second (full form ${FULL.rate})
  --bad-share <0..1>       share of deliberately bad rows (dead-lettered by the transforms; ${FULL.badShare})
  --seed <n>               seed of the generator and of the fault schedule (default: random, printed)
  --kill-every <min-max>   seconds between kills, e.g. 5-10 (full form ${FULL.killEveryMs.map((ms) => ms / 1000).join('-')})
  --storm <s>              length of the sink storm in seconds (full form ${FULL.stormMs / 1000})
  --no-service-restarts    no Kafka, Connect or Redis restart (kills and the storm only)
  --drain-timeout <s>      how long the pipeline may take to drain (full form ${FULL.drainTimeoutMs / 1000})
  -h, --help               this text

Exit code: 0 when every change is accounted for with zero lost and zero duplicate applications,
1 otherwise, 2 on a bad option.`;

export class OptionError extends Error {
  readonly code = 'FERRY_CHAOS_OPTION';
  readonly retryable = false;
}

function num(name: string, text: string | undefined, fallback: number, { min = 0, max = Infinity } = {}) {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new OptionError(`--${name} must be a number from ${min} to ${max}, got "${text}"`);
  return n;
}

/** The options, or `help` for --help; throws OptionError on bad input. */
export function parseChaosArgs(argv: readonly string[]): ChaosOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        short: { type: 'boolean' },
        count: { type: 'string' },
        rate: { type: 'string' },
        'bad-share': { type: 'string' },
        seed: { type: 'string' },
        'kill-every': { type: 'string' },
        storm: { type: 'string' },
        'no-service-restarts': { type: 'boolean' },
        'drain-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
  if (values.help) return 'help';
  const base = values.short ? SHORT : FULL;
  let killEveryMs = base.killEveryMs;
  const kill = values['kill-every'] as string | undefined;
  if (kill !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(kill);
    const lo = Number(m?.[1]) * 1000;
    const hi = Number(m?.[2] ?? m?.[1]) * 1000;
    if (!m || lo < 500 || hi < lo)
      throw new OptionError(`--kill-every must be like 5-10 (seconds), got "${kill}"`);
    killEveryMs = [lo, hi];
  }
  return {
    count: num('count', values.count as string | undefined, base.count, { min: 1, max: 10_000_000 }),
    rate: num('rate', values.rate as string | undefined, base.rate, { min: 1, max: 100_000 }),
    badShare: num('bad-share', values['bad-share'] as string | undefined, base.badShare, { max: 1 }),
    seed: num('seed', values.seed as string | undefined, Math.floor(Math.random() * 2 ** 31), {
      max: 2 ** 32 - 1,
    }),
    killEveryMs,
    serviceRestarts: !values['no-service-restarts'],
    stormMs: num('storm', values.storm as string | undefined, base.stormMs / 1000, { max: 3600 }) * 1000,
    drainTimeoutMs:
      num('drain-timeout', values['drain-timeout'] as string | undefined, base.drainTimeoutMs / 1000, {
        min: 1,
        max: 86_400,
      }) * 1000,
  };
}
