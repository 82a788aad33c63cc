// One chaos run: the whole pipeline on the local stack with the faults of a seeded schedule, then the
// accounting. Used by run.ts (`npm run chaos`) and by the integration test of the short form.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { demoMockEndpoints, demoRelayConfig, ENTITIES, type Entity, SINKS } from '../../cli/demo/plan.ts';
import { createProgress } from '../../cli/demo/progress.ts';
import { formatTable } from '../../cli/demo/table.ts';
import { KAFKA_BOOTSTRAP, REDIS_URL } from '../../deploy/local/config.ts';
import { type GenerateResult, generate } from '../../deploy/local/generator/index.ts';
import { createAdmin, topicOffsets } from '../../deploy/local/topic-counts.ts';
import { buildTransformsOrThrow } from '../../wasm/index.ts';
import { cdcOffsets, waitForChanges } from '../support/cdc.ts';
import { endOffsets, type Offsets, readTopic, type TopicRecord } from '../support/kafka.ts';
import type { FaultSpec } from '../support/mock-api/index.ts';
import { startMockApi } from '../support/mock-api/index.ts';
import { writeRelayConfig } from '../support/relay-process.ts';
import { commitGroupAt, groupCaughtUp } from '../support/transform-accounting.ts';
import { waitFor } from '../support/wait.ts';
import { accountSink, SINK_TABLE_HEADER, type SinkRow, sinkTableRow } from './accounting.ts';
import { type Started, type Supervised, spawnWithTail, supervise } from './children.ts';
import type { ChaosOptions } from './options.ts';
import { type ChaosSchedule, describeSchedule, type KillTarget, planSchedule } from './schedule.ts';
import { keepConnectorRunning, type RestartObservation, restartAndObserve } from './services.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What the sinks answer during the storm: 503s, 429s with Retry-After, hangs the relay times out. */
export const STORM: FaultSpec = {
  errorRate: 0.25,
  errorStatus: 503,
  rateLimit: { rate: 0.1, retryAfter: '1' },
  hangRate: 0.04,
  latency: { kind: 'uniform', minMs: 1, maxMs: 20 },
};

/** The yard sink takes created and updated trailers only: deletes are filtered (and accounted so). */
const FILTERED_SINK = 'yard';
/** A process is killed only once it has been up (started, group joined) this long. */
const MIN_UP_BEFORE_KILL_MS = 3000;
/** How long a scheduled kill waits for its target to be up before it is skipped (and counted). */
const KILL_WAIT_MS = 60_000;
/** Lag without a commit for this long counts as a stall (the relay may wait out Retry-After and parks). */
const RUNNER_STALL_MS = 30_000;
const RELAY_STALL_MS = 60_000;
const passesYardFilter = (event: Record<string, unknown>) => event.op === 'created' || event.op === 'updated';

export interface ChaosFaults {
  readonly kills: Record<KillTarget, number>;
  /** Scheduled kills whose target was not up in time (still restarting). */
  readonly skippedKills: number;
  readonly unexpectedExits: number;
  readonly failedStarts: number;
  /**
   * Kills by the watchdog of a process that had lag and made no progress. Each one fails the run: a
   * process must recover by itself (a supervisor restarts one that exits, nobody restarts one that hangs).
   */
  readonly stallKills: Record<KillTarget, number>;
  /** What the watchdog saw each time it had to break a stall (target, lag, when). */
  readonly stalls: readonly string[];
  readonly restarts: readonly RestartObservation[];
  readonly connectorTaskRestarts: number;
  /** Answers of the mock APIs by outcome (status code, 'hang', 'reset'), all sinks together. */
  readonly answers: Readonly<Record<string, number>>;
}

export interface ChaosReport {
  readonly ok: boolean;
  readonly seed: number;
  readonly schedule: ChaosSchedule;
  readonly generated: number;
  readonly sinks: readonly SinkRow[];
  readonly faults: ChaosFaults;
  readonly durationMs: number;
  /** The table and the fault summary, as printed. */
  readonly text: string;
}

type Marks = Map<string, Offsets>;

async function marks(topics: readonly string[]): Promise<Marks> {
  return new Map(await Promise.all(topics.map(async (t) => [t, await endOffsets(t)] as const)));
}

async function ensureTopics(topics: readonly string[]): Promise<void> {
  const admin = createAdmin({ clientId: 'ferry-chaos-topics' });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) await admin.createTopics({ topics: missing, partitions: 6, replicas: 1 });
  } finally {
    await admin.close();
  }
}

async function recordsSince(topics: readonly string[], mark: Marks): Promise<Record<string, number>> {
  const admin = createAdmin({ clientId: 'ferry-chaos-progress' });
  try {
    const out: Record<string, number> = {};
    for (const [topic, parts] of await topicOffsets(admin, [...topics])) {
      out[topic] = parts.reduce((n, p) => n + Number(p.high - (mark.get(topic)?.get(p.partition) ?? 0n)), 0);
    }
    return out;
  } finally {
    await admin.close();
  }
}

function lines(child: Started['child'], onLine: (line: string) => void): void {
  createInterface({ input: child.stdout! }).on('line', onLine);
}

export async function runChaos(
  options: ChaosOptions,
  say: (line: string) => void = console.log,
): Promise<ChaosReport> {
  const t0 = Date.now();
  const runId = `${Date.now().toString(36)}-${options.seed}`;
  const durationMs = Math.round((options.count / options.rate) * 1000);
  const schedule = planSchedule({ ...options, durationMs });
  say(`== chaos run ${runId}: seed ${options.seed} (repeat with --seed ${options.seed})`);
  say(
    `   ${options.count} changes at ${options.rate}/s (~${Math.round(durationMs / 1000)} s), ${Math.round(options.badShare * 100)}% bad rows; Kafka ${KAFKA_BOOTSTRAP}, Redis ${REDIS_URL}`,
  );
  for (const line of describeSchedule(schedule)) say(`   ${line}`);

  say('== transforms');
  const built = await buildTransformsOrThrow({ names: [...ENTITIES] });
  const wasm = new Map<string, string>();
  for (const b of built) if (b.ok) wasm.set(b.name, b.wasmPath);

  const cdcTopics = ENTITIES.map((e) => `cdc.public.${e}`);
  const cleanTopics = ENTITIES.map((e) => `clean.${e}`);
  const outTopics = [...cleanTopics, 'dlq.transform', 'dlq.relay'];
  await ensureTopics(outTopics);
  const cdcMark = await cdcOffsets(ENTITIES);
  const outMark = await marks(outTopics);
  const allMark: Marks = new Map([
    ...ENTITIES.map((e) => [`cdc.public.${e}`, cdcMark.get(e)!] as const),
    ...outMark,
  ]);

  const api = await startMockApi({ endpoints: demoMockEndpoints(), recordBodies: false });
  const baseFaults = new Map(SINKS.map((s) => [s.id, s.faults ?? {}]));
  for (const [id, { fixed: _fixed, ...f }] of baseFaults) api.setFaults(id, f);

  const progress = createProgress(say);
  const note = (line: string) => progress.note(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${line}`);
  const env = { ...process.env, FERRY_LOG: 'quiet' };

  // Relay config: the demo's sinks, a free port, and a filter on one sink so "filtered" is exercised.
  const doc = parse(
    demoRelayConfig({ runId, apiUrl: api.url, brokers: KAFKA_BOOTSTRAP, redisUrl: REDIS_URL }),
  ) as Record<string, unknown> & {
    routes: Array<{ sinks: Array<Record<string, unknown>> }>;
    kafka: { groupId: string };
  };
  doc.instanceId = `chaos-${runId}`;
  doc.listen = { port: 0, host: '127.0.0.1' };
  doc.shutdownTimeout = '10s';
  for (const route of doc.routes)
    for (const sink of route.sinks)
      if (sink.id === FILTERED_SINK) sink.filter = [{ field: 'op', in: ['created', 'updated'] }];
  const relayGroup = doc.kafka.groupId;
  for (const t of cleanTopics)
    if ((outMark.get(t)?.size ?? 0) > 0) await commitGroupAt(relayGroup, t, outMark.get(t)!);
  const configPath = writeRelayConfig(doc);

  const runnerGroup = (e: Entity) => `ferry-chaos-${runId}-${e}`;
  for (const e of ENTITIES) {
    const from = cdcMark.get(e)!;
    if (from.size > 0) await commitGroupAt(runnerGroup(e), `cdc.public.${e}`, from);
  }

  const logDir = mkdtempSync(join(tmpdir(), `ferry-chaos-${runId}-`));
  say(`   logs of the relay and the runners: ${logDir}`);
  const processes = new Map<KillTarget, Supervised>();
  processes.set(
    'relay',
    supervise(
      'relay',
      () => {
        const { child, tail } = spawnWithTail(
          process.execPath,
          [`${ROOT}relay/entry/node.ts`, '--config', configPath],
          env,
          join(logDir, 'relay.log'),
        );
        const ready = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`relay not started in 60 s: ${tail().slice(-500)}`)),
            60_000,
          );
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`relay exited with ${code} before starting: ${tail().slice(-500)}`));
          });
          lines(child, (line) => {
            if (line.includes('"event":"started"')) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
        return { child, ready };
      },
      { note },
    ),
  );
  for (const e of ENTITIES) {
    const path = wasm.get(e);
    if (path === undefined) throw new Error(`transform ${e} did not build`);
    processes.set(
      `runner:${e}`,
      supervise(
        `runner ${e}`,
        () => {
          const { child } = spawnWithTail(
            process.execPath,
            [
              `${ROOT}cli/main.ts`,
              'transform',
              'run',
              '--module',
              path,
              '--name',
              e,
              '--input-topic',
              `cdc.public.${e}`,
              '--output-topic',
              `clean.${e}`,
              'dlq.transform',
              '--group',
              runnerGroup(e),
              '--bootstrap-server',
              KAFKA_BOOTSTRAP,
              '--metrics-interval',
              '3600000',
            ],
            env,
            join(logDir, `runner-${e}.log`),
          );
          // Up once the group gave it its partitions (a runner that then makes no progress is the
          // watchdog's business).
          const ready = new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no partition assigned in 120 s')), 120_000);
            child.once('exit', (code) => {
              clearTimeout(timer);
              reject(new Error(`exited with ${code} before its first partition`));
            });
            createInterface({ input: child.stderr! }).on('line', (line) => {
              if (/: assigned cdc\.public\.\w+ partitions/.test(line)) {
                clearTimeout(timer);
                resolve();
              }
            });
          });
          return { child, ready };
        },
        { note },
      ),
    );
  }

  // The watchdog a process manager's liveness probe would be: a process whose group has lag but has
  // not committed anything for a while is killed and restarted, and counted apart from the schedule.
  const watched: Array<{ target: KillTarget; group: string; topics: string[]; stallMs: number }> = [
    ...ENTITIES.map((e) => ({
      target: `runner:${e}` as KillTarget,
      group: runnerGroup(e),
      topics: [`cdc.public.${e}`],
      stallMs: RUNNER_STALL_MS,
    })),
    { target: 'relay', group: relayGroup, topics: cleanTopics, stallMs: RELAY_STALL_MS },
  ];
  const progressAt = new Map<KillTarget, { committed: bigint; at: number }>();
  const stalls: string[] = [];
  let checking = false;
  const checkStalls = async () => {
    if (checking) return;
    checking = true;
    const admin = createAdmin({ clientId: 'ferry-chaos-watchdog' });
    try {
      for (const w of watched) {
        const [group] = await admin.listConsumerGroupOffsets({ groups: [w.group] });
        const ends = await topicOffsets(admin, w.topics);
        let committed = 0n;
        let lag = 0n;
        for (const t of w.topics) {
          const parts = group?.topics.find((x) => x.name === t)?.partitions ?? [];
          for (const end of ends.get(t) ?? []) {
            const c = parts.find((p) => p.partitionIndex === end.partition)?.committedOffset ?? 0n;
            committed += c;
            if (end.high > c) lag += end.high - c;
          }
        }
        const last = progressAt.get(w.target);
        const proc = processes.get(w.target)!;
        if (
          lag === 0n ||
          last === undefined ||
          last.committed !== committed ||
          proc.readyForMs() < w.stallMs
        ) {
          if (lag === 0n || last?.committed !== committed)
            progressAt.set(w.target, { committed, at: Date.now() });
          continue;
        }
        if (Date.now() - last.at > w.stallMs) {
          // A safety net so the accounting still completes, not a repair: the run fails (see `ok`).
          const stall = `${w.target}: ${lag} records behind and no commit for ${w.stallMs / 1000} s at ${((Date.now() - t0) / 1000).toFixed(0)} s`;
          stalls.push(stall);
          note(`STALL ${stall}; kill -9 and restart`);
          await proc.kill9('stall');
          progressAt.set(w.target, { committed, at: Date.now() });
        }
      }
    } catch {
      // The broker is away (restarting): nobody can commit, so the clocks start again.
      for (const [k, v] of progressAt) progressAt.set(k, { ...v, at: Date.now() });
    } finally {
      await admin.close().catch(() => {});
      checking = false;
    }
  };
  const watchdog = setInterval(() => void checkStalls(), 5000);

  const restarts: RestartObservation[] = [];
  let connectorTaskRestarts = 0;
  let skippedKills = 0;
  let result: GenerateResult | undefined;
  let generated = 0;
  const stopProcesses = () => Promise.allSettled([...processes.values()].map((p) => p.stop()));
  try {
    say(`== generating, with faults (mock APIs on ${api.url})`);
    const genStart = Date.now();
    const at = (ms: number) => sleep(Math.max(0, genStart + ms - Date.now()));
    const gen = generate({
      count: options.count,
      rate: options.rate,
      badShare: options.badShare,
      seed: options.seed,
      onProgress: (p) => {
        generated = p.total;
      },
      progressIntervalMs: 500,
    }).then((r) => {
      result = r;
      note(`generator done: ${r.total} changes`);
      return r;
    });

    const restartChain = (async () => {
      for (const r of schedule.restarts) {
        await at(r.atMs);
        note(`restarting ${r.service}`);
        const obs = await restartAndObserve(r.service, { runId, say: (l) => note(`  ${l}`) });
        restarts.push(obs);
        note(`${r.service} restarted in ${(obs.ms / 1000).toFixed(1)} s: ${obs.detail}`);
        if (r.service === 'kafka' || r.service === 'connect')
          connectorTaskRestarts += await keepConnectorRunning({ timeoutMs: 120_000, say: note });
      }
    })();
    const storm = (async () => {
      await at(schedule.storm.atMs);
      // A storm nobody calls into proves nothing: it starts once the APIs are being called.
      await waitFor(
        () => SINKS.some((s) => api.report(s.id).received > 0),
        options.drainTimeoutMs,
        'first delivery',
      );
      note(`sink storm on for ${schedule.storm.forMs / 1000} s (${JSON.stringify(STORM)})`);
      for (const s of SINKS) api.setFaults(s.id, STORM);
      await sleep(schedule.storm.forMs);
      // Back to the everyday faults; the fixed answers (planning's 400s) start now.
      for (const [id, f] of baseFaults) api.setFaults(id, f);
      note('sink storm off');
    })();
    const kills = (async () => {
      for (const k of schedule.kills) {
        await at(k.atMs);
        const target = processes.get(k.target)!;
        // Each kill hits a process that has been doing its work for a while, not one still joining
        // its group after the previous kill (a group waits out a dead member's session first).
        const up = await waitFor(() => target.readyForMs() >= MIN_UP_BEFORE_KILL_MS, KILL_WAIT_MS, '').then(
          () => true,
          () => false,
        );
        const pid = target.pid();
        if (up && (await target.kill9())) note(`kill -9 ${k.target} (pid ${pid})`);
        else {
          skippedKills += 1;
          note(`kill -9 ${k.target} skipped: not up for ${KILL_WAIT_MS / 1000} s`);
        }
      }
    })();
    const ticker = setInterval(() => {
      void recordsSince([...cdcTopics, ...outTopics], allMark)
        .then((n) =>
          progress.line({
            generated: result?.total ?? generated,
            cdc: cdcTopics.reduce((s, t) => s + (n[t] ?? 0), 0),
            clean: cleanTopics.reduce((s, t) => s + (n[t] ?? 0), 0),
            dlqTransform: n['dlq.transform'] ?? 0,
            dlqRelay: n['dlq.relay'] ?? 0,
            sinks: SINKS.map((s) => {
              const r = api.report(s.id);
              return {
                id: s.id,
                delivered: r.applied,
                deduplicated: 0,
                deadLettered: 0,
                retried: r.received - (r.byOutcome['200'] ?? 0),
              };
            }),
          }),
        )
        .catch(() => {}); // the broker may be restarting
    }, 2000);

    try {
      await Promise.all([gen, restartChain, storm, kills]);
      say('== draining');
      const drainDeadline = Date.now() + options.drainTimeoutMs;
      const atCdc = await waitForChanges(
        result!.changes.filter((c) => ENTITIES.includes(c.table)),
        cdcMark,
        {
          timeoutMs: options.drainTimeoutMs,
        },
      );
      if (atCdc.missing.length > 0) note(`${atCdc.missing.length} changes never reached the cdc topics`);
      let caughtUpTwice = 0;
      while (Date.now() < drainDeadline && caughtUpTwice < 2) {
        const done = await Promise.all([
          ...ENTITIES.map((e) => groupCaughtUp(runnerGroup(e), `cdc.public.${e}`)),
          ...cleanTopics.map((t) => groupCaughtUp(relayGroup, t)),
        ]).catch(() => [false]);
        caughtUpTwice = done.every(Boolean) ? caughtUpTwice + 1 : 0;
        if (caughtUpTwice < 2) await sleep(2000);
      }
      if (caughtUpTwice < 2)
        note(`not drained after ${options.drainTimeoutMs / 1000} s; accounting what is there`);
    } finally {
      clearInterval(ticker);
      clearInterval(watchdog);
      progress.done();
    }
  } finally {
    await stopProcesses();
  }

  say('== accounting');
  const read = (topic: string) =>
    readTopic(topic, { from: allMark.get(topic) ?? new Map(), timeoutMs: 120_000 });
  const [dlqT, dlqR] = await Promise.all([read('dlq.transform'), read('dlq.relay')]);
  const atCdc = await waitForChanges(
    result!.changes.filter((c) => ENTITIES.includes(c.table)),
    cdcMark,
    {
      timeoutMs: 30_000,
    },
  );
  const rows: SinkRow[] = [];
  const perEntity = new Map<Entity, { cdc: TopicRecord[]; clean: TopicRecord[] }>();
  for (const e of ENTITIES)
    perEntity.set(e, { cdc: await read(`cdc.public.${e}`), clean: await read(`clean.${e}`) });
  for (const s of SINKS) {
    const { cdc, clean } = perEntity.get(s.entity)!;
    rows.push(
      accountSink({
        sink: s.id,
        generated: result!.changes.filter((c) => c.table === s.entity).length,
        missingAtCdc: atCdc.missing.filter((m) => m.startsWith(`${s.entity}/`)).length,
        cdc,
        clean,
        dlqTransform: dlqT.filter(
          (r) => r.headers.get('ferry-error-source-topic') === `cdc.public.${s.entity}`,
        ),
        dlqRelay: dlqR.filter((r) => r.headers.get('ferry-error-sink') === s.id),
        applied: api.ledger(s.id).appliedKeys,
        report: api.report(s.id),
        ...(s.id === FILTERED_SINK ? { passes: passesYardFilter } : {}),
      }),
    );
  }
  const answers: Record<string, number> = {};
  for (const s of SINKS)
    for (const [k, n] of Object.entries(api.report(s.id).byOutcome)) answers[k] = (answers[k] ?? 0) + n;
  await api.stop();

  const kills = Object.fromEntries([...processes].map(([k, p]) => [k, p.stats.kills])) as Record<
    KillTarget,
    number
  >;
  const faults: ChaosFaults = {
    kills,
    skippedKills,
    unexpectedExits: [...processes.values()].reduce((n, p) => n + p.stats.unexpectedExits, 0),
    failedStarts: [...processes.values()].reduce((n, p) => n + p.stats.failedStarts, 0),
    stallKills: Object.fromEntries([...processes].map(([k, p]) => [k, p.stats.stallKills])) as Record<
      KillTarget,
      number
    >,
    stalls,
    restarts,
    connectorTaskRestarts,
    answers,
  };
  const stalled = stalls.length > 0;
  const ok =
    !stalled && rows.every((r) => r.lost === 0 && r.duplicateApplications === 0 && r.unexpected === 0);
  const out: string[] = [formatTable([[...SINK_TABLE_HEADER], ...rows.map(sinkTableRow)]), ''];
  for (const r of rows) {
    if (r.lostSamples.length > 0) out.push(`${r.sink}: lost, e.g. ${r.lostSamples.join(', ')}`);
    if (r.unexpected > 0) out.push(`${r.sink}: ${r.unexpected} applied keys match no change of this run`);
    if (r.deliveredAfterDeadLetter > 0)
      out.push(
        `${r.sink}: ${r.deliveredAfterDeadLetter} dead-lettered by the relay and later delivered after a kill`,
      );
  }
  const perTarget = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  out.push(`kills (-9) on the schedule: ${perTarget(kills)}; skipped (target not up): ${skippedKills}`);
  out.push(
    `restarts after a stall (watchdog): ${perTarget(faults.stallKills)}; ` +
      `exits nobody caused: ${faults.unexpectedExits}; starts that failed: ${faults.failedStarts}`,
  );
  for (const stall of stalls) out.push(`STALL broken by the watchdog: ${stall}`);
  for (const r of restarts)
    out.push(
      `restart ${r.service}: ${r.observed ? 'observed' : 'NOT OBSERVED'} (${r.detail}, ${(r.ms / 1000).toFixed(1)} s)`,
    );
  if (connectorTaskRestarts > 0) out.push(`connector tasks restarted after FAILED: ${connectorTaskRestarts}`);
  out.push(
    `mock API answers: ${Object.entries(answers)
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ')}`,
  );
  out.push(`seed ${options.seed}; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
  out.push(
    ok
      ? 'Every change is accounted for: 0 lost, 0 duplicate applications, no stalls.'
      : stalled && rows.every((r) => r.lost === 0 && r.duplicateApplications === 0 && r.unexpected === 0)
        ? 'CHAOS RUN FAILED: a process stalled with lag and had to be restarted by the watchdog (STALL above).'
        : `CHAOS RUN FAILED: see LOST / DUP APPLIED${stalled ? ' and STALL' : ''} above.`,
  );
  const text = out.join('\n');
  say(text);
  return {
    ok,
    seed: options.seed,
    schedule,
    generated: result!.total,
    sinks: rows,
    faults,
    durationMs: Date.now() - t0,
    text,
  };
}
