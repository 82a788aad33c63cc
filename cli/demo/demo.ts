// The main job: the whole pipeline on the local stack, with live progress and a closing accounting.
//
//   generator ─▶ PostgreSQL ─▶ Debezium ─▶ cdc.public.<table>
//     ─▶ Wasm transforms in the portable runner ─▶ clean.<entity> + dlq.transform
//     ─▶ relay (Redis dedupe, cockatiel policies) ─▶ mock external APIs + dlq.relay
//
// Every consumer group is new for each run and starts at the topics' current ends, so the accounting
// counts this run's changes only: for every sink, source changes = delivered + deduplicated + filtered
// + dead-lettered (by the transform or by the relay).
import { readFile } from 'node:fs/promises';
import type { Admin } from '@platformatic/kafka';
import { KAFKA_BOOTSTRAP, REDIS_URL } from '../../deploy/local/config.ts';
import { type GenerateResult, generate } from '../../deploy/local/generator/index.ts';
import { stackUp } from '../../deploy/local/stack.ts';
import { createAdmin, topicOffsets } from '../../deploy/local/topic-counts.ts';
import { createUndiciSender } from '../../relay/adapters/http-undici.ts';
import { buildRelay, parseConfig, type RelayRuntime } from '../../relay/index.ts';
import { startMockApi } from '../../test/support/mock-api/index.ts';
import { buildTransformsOrThrow, createTransformRunner, type TransformRunner } from '../../wasm/index.ts';
import { demoMockEndpoints, demoRelayConfig, ENTITIES, type Entity, SINKS } from './plan.ts';
import { createProgress } from './progress.ts';
import { formatTable } from './table.ts';

export interface DemoOptions {
  count: number;
  rate: number;
  badShare: number;
  seed: number;
  faults: boolean;
  drainTimeoutMs: number;
  say?: (line: string) => void;
}

type Offsets = Map<string, Map<number, bigint>>;

async function ends(admin: Admin, topics: string[]): Promise<Offsets> {
  const result: Offsets = new Map();
  for (const [topic, parts] of await topicOffsets(admin, topics)) {
    result.set(topic, new Map(parts.map((p) => [p.partition, p.high])));
  }
  return result;
}

function since(now: Offsets, mark: Offsets, topic: string): number {
  let n = 0;
  for (const [p, high] of now.get(topic) ?? []) n += Number(high - (mark.get(topic)?.get(p) ?? 0n));
  return n;
}

/** A new group starts where `mark` says (topics that do not exist yet start at their beginning). */
async function startGroupAt(admin: Admin, groupId: string, mark: Offsets, topics: string[]): Promise<void> {
  const entries = topics
    .filter((t) => (mark.get(t)?.size ?? 0) > 0)
    .map((name) => ({
      name,
      partitionOffsets: [...mark.get(name)!].map(([partition, offset]) => ({ partition, offset })),
    }));
  if (entries.length > 0) await admin.alterConsumerGroupOffsets({ groupId, topics: entries });
}

export async function runDemo({
  count,
  rate,
  badShare,
  seed,
  faults,
  drainTimeoutMs,
  say = console.log,
}: DemoOptions): Promise<boolean> {
  say('== 1/5 local stack');
  await stackUp({ say: (l) => say(`   ${l}`) });

  say('== 2/5 transforms (AssemblyScript -> Wasm, with the broker deploy-time checks)');
  const built = await buildTransformsOrThrow({ names: [...ENTITIES] });
  for (const b of built)
    if (b.ok) say(`   ${b.name}: ${b.info.sizeBytes} bytes${b.cached ? ' (cached)' : ''}`);

  const runId = Date.now().toString(36);
  const admin = createAdmin({ clientId: 'ferry-demo' });
  const cdcTopics = ENTITIES.map((e) => `cdc.public.${e}`);
  const cleanTopics = ENTITIES.map((e) => `clean.${e}`);
  const outTopics = [...cleanTopics, 'dlq.transform', 'dlq.relay'];

  const api = await startMockApi({ endpoints: demoMockEndpoints(), recordBodies: false });
  const runners: TransformRunner[] = [];
  let relay: RelayRuntime | undefined;
  const progress = createProgress(say);
  const out: string[] = [];
  try {
    say(`== 3/5 transform runners and relay (run ${runId}; mock APIs on ${api.url})`);
    const cdcMark = await ends(admin, cdcTopics);
    for (const entity of ENTITIES) {
      const groupId = `ferry-demo-${runId}-${entity}`;
      await startGroupAt(admin, groupId, cdcMark, [`cdc.public.${entity}`]);
      const wasm = built.find((b) => b.name === entity);
      if (!wasm?.ok) throw new Error(`transform ${entity} did not build`);
      const runner = createTransformRunner({
        module: new Uint8Array(await readFile(wasm.wasmPath)),
        name: entity,
        inputTopic: `cdc.public.${entity}`,
        outputTopics: [`clean.${entity}`, 'dlq.transform'],
        brokers: [KAFKA_BOOTSTRAP],
        groupId,
        metricsIntervalMs: 0,
        onEvent: (line) => {
          if (!/instance started|: stopped$/.test(line)) progress.note(`runner ${entity}: ${line}`);
        },
        onLog: (level, message) =>
          progress.note(`transform ${entity} [${level}]: ${message.replace(/\n$/, '')}`),
      });
      await runner.start();
      runners.push(runner);
    }
    const outMark = await ends(admin, outTopics);
    const configResult = parseConfig(
      demoRelayConfig({ runId, apiUrl: api.url, brokers: KAFKA_BOOTSTRAP, redisUrl: REDIS_URL }),
    );
    if (!configResult.ok) throw new Error(`demo relay config: ${configResult.errors.join('; ')}`);
    await startGroupAt(admin, configResult.config.kafka.groupId, outMark, cleanTopics);
    relay = await buildRelay({
      config: configResult.config,
      createSender: (sink) => createUndiciSender({ connections: sink.maxInFlight }),
      logger: {
        info: (msg, fields) => progress.note(`relay: ${msg} ${fields ? JSON.stringify(fields) : ''}`),
        warn: (msg, fields) => progress.note(`relay: ${msg} ${fields ? JSON.stringify(fields) : ''}`),
        error: (msg, fields) => progress.note(`relay: ${msg} ${fields ? JSON.stringify(fields) : ''}`),
      },
    });
    await relay.relay.start();
    if (faults) for (const s of SINKS) if (s.faults) api.setFaults(s.id, s.faults);

    say(`== 4/5 generating ${count} changes at ${rate}/s (${Math.round(badShare * 100)}% deliberately bad)`);
    const sinkValue = (name: string, id: string) => relay?.metrics.total(name, { sink: id }) ?? 0;
    const snapshot = async (generated: number) => {
      const now = await ends(admin, [...cdcTopics, ...outTopics]);
      return {
        generated,
        cdc: cdcTopics.reduce((n, t) => n + since(now, cdcMark, t), 0),
        clean: cleanTopics.reduce((n, t) => n + since(now, outMark, t), 0),
        dlqTransform: since(now, outMark, 'dlq.transform'),
        dlqRelay: since(now, outMark, 'dlq.relay'),
        perTopic: Object.fromEntries(
          ENTITIES.map((e) => [
            e,
            { cdc: since(now, cdcMark, `cdc.public.${e}`), clean: since(now, outMark, `clean.${e}`) },
          ]),
        ) as Record<Entity, { cdc: number; clean: number }>,
        sinks: SINKS.map((s) => ({
          id: s.id,
          entity: s.entity,
          delivered: sinkValue('ferry_records_delivered_total', s.id),
          deduplicated: sinkValue('ferry_records_deduplicated_total', s.id),
          filtered: sinkValue('ferry_records_filtered_total', s.id),
          deadLettered: sinkValue('ferry_records_deadlettered_total', s.id),
          retried: sinkValue('ferry_retries_total', s.id),
        })),
      };
    };

    let generated = 0;
    const gen: Promise<GenerateResult> = generate({
      count,
      rate,
      badShare,
      seed,
      onProgress: (p) => {
        generated = p.total;
      },
      progressIntervalMs: 250,
    });
    let result: GenerateResult | undefined;
    gen.then(
      (r) => {
        result = r;
      },
      () => {},
    );
    const deadline = { at: Number.POSITIVE_INFINITY };
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const s = await snapshot(result?.total ?? generated);
      progress.line(s);
      if (result === undefined) continue;
      if (deadline.at === Number.POSITIVE_INFINITY) deadline.at = Date.now() + drainTimeoutMs;
      const transformed = s.clean + s.dlqTransform >= s.cdc && s.cdc >= result.total;
      const relayed = s.sinks.every(
        (k) => k.delivered + k.deduplicated + k.filtered + k.deadLettered >= s.perTopic[k.entity].clean,
      );
      if ((transformed && relayed) || Date.now() > deadline.at) break;
    }
    await gen;
    progress.done();

    say('== 5/5 accounting');
    const final = await snapshot(result!.total);
    const dlqByEntity = await countDlqTransformByEntity(outMark);
    const rows: string[][] = [
      [
        'SINK',
        'TOPIC',
        'SOURCE',
        'DELIVERED',
        'DEDUPED',
        'FILTERED',
        'DLQ(TRANSFORM)',
        'DLQ(RELAY)',
        'RETRIES',
        'OK',
      ],
    ];
    let ok = final.cdc >= result!.total;
    for (const k of final.sinks) {
      const source = final.perTopic[k.entity].cdc;
      const transformDlq = dlqByEntity[k.entity] ?? 0;
      const sum = k.delivered + k.deduplicated + k.filtered + k.deadLettered + transformDlq;
      const balanced = sum === source;
      ok &&= balanced;
      rows.push([
        k.id,
        `clean.${k.entity}`,
        String(source),
        String(k.delivered),
        String(k.deduplicated),
        String(k.filtered),
        String(transformDlq),
        String(k.deadLettered),
        String(k.retried),
        balanced ? 'yes' : `NO (${sum})`,
      ]);
    }
    out.push(formatTable(rows));
    out.push('');
    out.push(`source changes committed by the generator: ${result!.total}; on cdc topics: ${final.cdc}`);
    for (const s of SINKS) {
      const r = api.report(s.id);
      // The duplicate and order checks read each applied event's id and lsn: an API that applied
      // events but saw no ordering key did not check anything, which must not pass as zero.
      const checked = r.applied === 0 || r.orderKeys > 0;
      out.push(
        `mock API ${s.id}: ${r.received} requests, ${r.applied} applied once, ${r.replays} replays, ` +
          `${r.duplicateApplications} duplicate applications, ${r.orderViolations} order violations` +
          (checked ? '' : ' (NOT CHECKED: no event carried an id and lsn)'),
      );
      ok &&= r.duplicateApplications === 0 && r.orderViolations === 0 && checked;
    }
    out.push(
      ok ? '\nEvery change is accounted for.' : '\nACCOUNTING DOES NOT BALANCE (see the table above).',
    );
    out.push('The stack keeps running: `bin/ferry topics watch --once`, `bin/ferry stack down` to stop it.');
    return ok;
  } finally {
    progress.mute();
    await relay?.close(5000).catch(() => {});
    await Promise.allSettled(runners.map((r) => r.stop()));
    await api.stop();
    await admin.close();
    for (const line of out) say(line);
  }
}
/** dlq.transform is shared by the three transforms; the source table is in the dead letter's topic header. */
async function countDlqTransformByEntity(mark: Offsets): Promise<Partial<Record<Entity, number>>> {
  const { readTopic } = await import('../../test/support/kafka.ts');
  const records = await readTopic('dlq.transform', {
    from: mark.get('dlq.transform') ?? new Map(),
    timeoutMs: 30_000,
  });
  const counts: Partial<Record<Entity, number>> = {};
  for (const r of records) {
    const topic = r.headers.get('ferry-error-source-topic');
    const entity = ENTITIES.find((e) => topic === `cdc.public.${e}`) ?? entityOf(r.value);
    if (entity) counts[entity] = (counts[entity] ?? 0) + 1;
  }
  return counts;
}

function entityOf(value: string | undefined): Entity | undefined {
  const table = /"table"\s*:\s*"([a-z_]+)"/.exec(value ?? '')?.[1];
  return ENTITIES.find((e) => e === table);
}
