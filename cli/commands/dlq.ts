// `ferry dlq reprocess`: after a transform's rule is fixed and the transform redeployed, sends the
// CDC events it dead-lettered (dlq.transform) back to its input topic, so nothing a wrong rule
// rejected is lost for good. Why the input topic and not straight to the output: the deployed
// transform (in the broker or the portable runner) stays the only code that turns CDC into clean
// events, the records take the same path (and the same key partitioning) as live changes, and a
// record that is still bad is dead-lettered again like any other. A record keeps its key, value and
// headers; the transform's ferry-error-* headers are removed and ferry-reprocessed-from names the dead
// letter (cli/dlq/select.ts says how that keeps a second run from multiplying records).
import { Consumer, murmur2, Producer } from '@platformatic/kafka';
import type { Command } from 'commander';
import { createKafkaDlqReader } from '../../relay/adapters/dlq-reader.ts';
import type { SourceRecord } from '../../relay/core/contracts.ts';
import { connectionFailure, type KafkaConnection, kafkaClientOptions } from '../../wasm/index.ts';
import {
  createSelector,
  deadLetterId,
  headerValue,
  outgoing,
  parseTimeFlag,
  type ReprocessFilter,
} from '../dlq/select.ts';
import { CliError } from '../errors.ts';
import {
  addBootstrapFlag,
  addKafkaConnectionFlags,
  brokersFrom,
  type KafkaFlagValues,
  kafkaConnectionFrom,
} from '../kafka-flags.ts';
import { locateTransform, readProject } from '../transform/project.ts';

interface ReprocessOptions extends KafkaFlagValues {
  transform: string;
  inputTopic?: string;
  dlqTopic?: string;
  code?: string[];
  since?: string;
  until?: string;
  limit?: string;
  dryRun?: boolean;
  show: string;
  bootstrapServer: string;
}

/** Java's default partitioner (Debezium's): murmur2 of the key, positive, modulo the partitions. */
const partitionOf = (key: Uint8Array | null, partitions: number): number =>
  key === null
    ? 0
    : (murmur2(Buffer.from(key.buffer, key.byteOffset, key.byteLength)) & 0x7fffffff) % partitions;

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new CliError(`${flag} must be a whole number >= 1 (got "${text}")`, 2);
  return Number(text);
}

function timeFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const t = parseTimeFlag(text, Date.now());
  if (Number.isNaN(t))
    throw new CliError(`${flag}: "${text}" is neither an ISO-8601 time nor a duration ago (90m, 2h, 7d)`, 2);
  return t;
}

function describe(r: SourceRecord): string {
  const code = headerValue(r, 'ferry-error-code') ?? '?';
  const field = headerValue(r, 'ferry-error-field');
  const key = r.key === null ? '(no key)' : JSON.stringify(new TextDecoder().decode(r.key).slice(0, 60));
  return `  ${deadLetterId(r)} key ${key} ${code}${field ? ` ${field}` : ''} at ${new Date(r.timestamp).toISOString()}`;
}

async function partitionCount(
  brokers: string[],
  topic: string,
  connection: KafkaConnection | undefined,
): Promise<number> {
  const c = new Consumer({
    ...kafkaClientOptions(connection),
    clientId: 'ferry-dlq-reprocess-meta',
    groupId: 'ferry-dlq-reprocess-unused',
    bootstrapBrokers: brokers,
  });
  try {
    const meta = await c.metadata({ topics: [topic], autocreateTopics: false });
    const n = meta.topics.get(topic)?.partitionsCount ?? 0;
    if (n < 1) throw new CliError(`input topic ${topic} does not exist`);
    return n;
  } catch (error) {
    if (/unknown topic/i.test(String((error as Error).message)))
      throw new CliError(`input topic ${topic} does not exist`);
    throw error;
  } finally {
    await c.close(true).catch(() => {});
  }
}

export async function reprocess(
  opts: ReprocessOptions,
  out: (line: string) => void = console.log,
): Promise<void> {
  const project = await readProject(await locateTransform(opts.transform));
  const inputTopic = opts.inputTopic ?? project.inputTopic;
  const dlqTopic = opts.dlqTopic ?? project.outputTopics[1] ?? project.env.FERRY_DLQ_TOPIC ?? 'dlq.transform';
  const filter: ReprocessFilter = {
    sourceTopic: inputTopic,
    ...(opts.code ? { codes: opts.code } : {}),
    ...(opts.since !== undefined ? { since: timeFlag(opts.since, '--since') } : {}),
    ...(opts.until !== undefined ? { until: timeFlag(opts.until, '--until') } : {}),
    ...(opts.limit !== undefined ? { limit: positiveInt(opts.limit, '--limit') } : {}),
  };
  const show = positiveInt(opts.show, '--show') ?? 10;
  let connection: KafkaConnection | undefined;
  try {
    connection = kafkaConnectionFrom(opts);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const brokers = brokersFrom(opts);
  try {
    out(`reading ${dlqTopic} for dead letters of ${project.name} (source topic ${inputTopic})`);
    const reader = createKafkaDlqReader({
      brokers,
      topic: dlqTopic,
      clientId: 'ferry-dlq-reprocess',
      ...(connection ? { connection } : {}),
    });
    const selector = createSelector(filter);
    let read = 0;
    try {
      for await (const r of reader.read()) {
        selector.add(r);
        if (++read % 10_000 === 0) out(`  read ${read} dead letters`);
      }
    } finally {
      await reader.close();
    }
    const { selected, skipped } = selector.result();
    const byCode = new Map<string, number>();
    for (const r of selected) {
      const k =
        `${headerValue(r, 'ferry-error-code') ?? '?'} ${headerValue(r, 'ferry-error-field') ?? ''}`.trim();
      byCode.set(k, (byCode.get(k) ?? 0) + 1);
    }
    out(
      `read ${read}; ${opts.dryRun ? 'would reprocess' : 'reprocessing'} ${selected.length}; skipped: ` +
        Object.entries(skipped)
          .map(([k, n]) => `${k} ${n}`)
          .join(', '),
    );
    for (const [k, n] of [...byCode].sort((a, b) => b[1] - a[1])) out(`  ${n} ${k}`);
    for (const r of selected.slice(0, show)) out(describe(r));
    if (selected.length > show) out(`  ... and ${selected.length - show} more`);
    if (opts.dryRun || selected.length === 0) {
      if (opts.dryRun) out('dry run: nothing was produced');
      return;
    }
    const partitions = await partitionCount(brokers, inputTopic, connection);
    const producer = new Producer({
      ...kafkaClientOptions(connection),
      clientId: 'ferry-dlq-reprocess',
      bootstrapBrokers: brokers,
      acks: -1,
      idempotent: true,
    });
    let produced = 0;
    try {
      // In the order read (per dead-letter partition, by offset), awaited batch by batch: a key's
      // records reach the input partition in the order they were dead-lettered.
      for (let i = 0; i < selected.length; i += 500) {
        const batch = selected.slice(i, i + 500).map((r) => {
          const o = outgoing(r);
          return {
            topic: inputTopic,
            partition: partitionOf(o.key, partitions),
            key: o.key === null ? undefined : Buffer.from(o.key),
            value: o.value === null ? undefined : Buffer.from(o.value),
            headers: new Map(
              o.headers.map((h) => [Buffer.from(h.key), Buffer.from(h.value ?? new Uint8Array())]),
            ),
          };
        });
        await producer.send({ messages: batch });
        produced += batch.length;
        out(`  produced ${produced}/${selected.length} to ${inputTopic}`);
      }
    } finally {
      await producer.close().catch(() => {});
    }
    out(
      `reprocessed ${produced} dead letters of ${project.name}: they go through the deployed transform again`,
    );
  } catch (error) {
    if (error instanceof CliError) throw error;
    const why = connectionFailure(error, connection);
    throw new CliError(why ?? `${(error as Error).message} (is Kafka up on ${opts.bootstrapServer}?)`);
  }
}

export function register(cmd: Command): void {
  addKafkaConnectionFlags(
    addBootstrapFlag(
      cmd
        .command('reprocess')
        .description(
          "send a transform's dead letters (dlq.transform) back through it, after its rules were fixed",
        )
        .requiredOption(
          '-t, --transform <name|folder>',
          'the transform (transforms/<name>/transform.yaml names its topics)',
        )
        .option('--input-topic <topic>', "the transform's input topic (default: from transform.yaml)")
        .option(
          '--dlq-topic <topic>',
          'the dead-letter topic (default: output topic 1 of transform.yaml, else dlq.transform)',
        )
        .option('--code <code...>', 'only dead letters with this ferry-error-code (e.g. missing_field)')
        .option(
          '--since <time>',
          'only dead letters written at or after: ISO-8601, or a duration ago (2h, 7d)',
        )
        .option('--until <time>', 'only dead letters written before: ISO-8601, or a duration ago')
        .option('--limit <n>', 'at most n dead letters, oldest first per partition')
        .option('--dry-run', 'count and show what would be reprocessed; produce nothing')
        .option('--show <n>', 'dead letters listed in the summary', '10'),
    ),
  )
    .addHelpText(
      'after',
      `
Reads the dead-letter topic from its start to its current end, keeps the dead letters the transform
wrote for its own input topic (ferry-error-source-topic) that match the filters, and produces each
original record (key, value, headers, without the ferry-error-* headers) back to the input topic,
partitioned by key as Debezium does. The deployed transform then runs them again: fixed records
become clean events, records still bad are dead-lettered again (and supersede their older copy, so
running this twice does not multiply them). A clean event's id comes from the change itself, so a
record that was already reprocessed is dropped by the relay's dedupe, never delivered twice.

Deploy the fixed transform first (ferry transform deploy), and run with --dry-run before.

Examples:
  ferry dlq reprocess --transform shipments --dry-run
  ferry dlq reprocess --transform shipments --code missing_field --since 2h
  ferry dlq reprocess --transform shipments --since 2026-12-01T00:00:00Z --limit 1000`,
    )
    .action(async (opts: ReprocessOptions) => {
      await reprocess(opts);
    });
}
