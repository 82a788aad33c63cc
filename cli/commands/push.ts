// `ferry push`: the forwarder that feeds an edge relay (`source: push`) from Kafka. It reads topics in a
// consumer group with the relay's own Kafka source and pushes batches to the relay's /push/batches,
// signed with Standard Webhooks; a partition's offset is committed only once the relay answered
// 200 committed for the batch holding it (relay/forwarder/ holds the logic).
import { type Command, InvalidArgumentError, Option } from 'commander';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { createKafkaSource } from '../../relay/adapters/kafka-source.ts';
import { parseDuration } from '../../relay/config/duration.ts';
import { createRedactor } from '../../relay/core/redact.ts';
import {
  createWebhookSigner,
  splitWebhookSecrets,
  webhookSecretKey,
} from '../../relay/core/webhook-signing.ts';
import {
  createForwarder,
  createPushClient,
  type ForwarderStats,
  progressLine,
} from '../../relay/forwarder/index.ts';
import { connectionFailure } from '../../wasm/index.ts';
import { addKafkaConnectionFlags, type KafkaFlagValues, kafkaConnectionFrom } from '../kafka-flags.ts';

export const PUSH_ENV = {
  token: 'FERRY_PUSH_TOKEN',
  signingSecret: 'FERRY_PUSH_SIGNING_SECRET',
  url: 'FERRY_PUSH_URL',
} as const;

interface PushFlags extends KafkaFlagValues {
  bootstrap: string;
  topic: string[];
  group: string;
  url?: string;
  batchSize: number;
  maxBytes: number;
  linger: number;
  fromLatest?: boolean;
  unsigned?: boolean;
  progress: number;
  stopGrace: number;
  requestTimeout: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive integer');
  return n;
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('a duration: ms, or e.g. 250ms, 5s, 2m');
  return ms;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** A duration option whose default reads as one (`50ms`, not `50`). */
const durationOption = (flags: string, description: string, ms: number, shown: string) =>
  new Option(flags, description).argParser(duration).default(ms, shown);

/** The relay's /push/batches URL from its base URL (or the full URL); undefined when not http(s). */
export function pushUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (!url.pathname.endsWith('/push/batches'))
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/push/batches`;
  return url.toString();
}

export function register(cmd: Command): void {
  addKafkaConnectionFlags(
    cmd
      .option('--bootstrap <host:port>', 'Kafka bootstrap server(s), comma-separated', KAFKA_BOOTSTRAP)
      .option('--topic <topic>', 'topic to forward (repeatable)', collect, [])
      .option('--group <id>', 'consumer group: where the forwarded offsets are committed', 'ferry-push')
      .option('--url <url>', `the edge relay's base URL or its /push/batches URL (${PUSH_ENV.url})`)
      .option(
        '--batch-size <n>',
        "most records per push (at most the relay's push.maxRecords)",
        positiveInt,
        500,
      )
      .option(
        '--max-bytes <n>',
        "most body bytes per push (below the relay's push.maxBodyBytes)",
        positiveInt,
        1024 * 1024,
      )
      .addOption(
        durationOption('--linger <duration>', 'how long a partition waits to fill a batch', 50, '50ms'),
      )
      .option(
        '--from-latest',
        'a group without committed offsets starts at the end of the topics (default: beginning)',
      )
      .option('--unsigned', `push without a signature (only for a relay with push.unsigned: true)`)
      .addOption(
        durationOption(
          '--progress <duration>',
          'how often a progress line is printed (0: never)',
          5000,
          '5s',
        ),
      )
      .addOption(
        durationOption(
          '--stop-grace <duration>',
          'on SIGTERM, how long a push on the wire may take to be answered',
          10_000,
          '10s',
        ),
      )
      .addOption(
        durationOption(
          '--request-timeout <duration>',
          "how long one push may wait for its answer (longer than the relay's push.timeout)",
          60_000,
          '60s',
        ),
      ),
  )
    .addHelpText(
      'after',
      `
Reads the topics in a consumer group and pushes their records, one batch per partition at a time (so
each partition stays in log order), to an edge relay running with \`source: push\`. Secrets come from
the environment only: the bearer token from ${PUSH_ENV.token} (the relay's push.token), the Standard
Webhooks secret from ${PUSH_ENV.signingSecret} (the relay's push.signingSecret; several separated by
spaces while one is rotated: each push then carries one signature per secret).

A partition's offset is committed only after the relay answered 200 committed for the batch holding
it. Until then the same batch is pushed again: at once after 202 (the relay is still delivering it),
after Retry-After on 429, after backoff with full jitter (200 ms doubling to 30 s) on 5xx, timeouts and
network errors. The relay answers a batch it already took by position, and its dedupe keeps the API
from seeing a record twice, so a restart or a retry never duplicates an application.
It stops with exit code 1 and the relay's reason when the relay refuses a batch for good: 401/403 (token
or signature), 409 (offsets the relay never processed: a reset group or a second forwarder group),
413 (lower --batch-size or --max-bytes), 400 (a bug).
SIGINT/SIGTERM: no new push starts; a push on the wire may be answered within --stop-grace and is then
committed; anything else is left uncommitted for the next run. Progress goes to stderr.

Examples:
  FERRY_PUSH_TOKEN=... FERRY_PUSH_SIGNING_SECRET=whsec_... \\
    ferry push --topic clean.shipments --topic clean.loads --url https://ferry-edge.example.workers.dev
  ferry push --topic clean.shipments --group edge-eu --url http://127.0.0.1:8787 --batch-size 200 --linger 20ms`,
    )
    .action(async (opts: PushFlags) => {
      const log = (line: string) => console.error(`[${new Date().toISOString()}] ferry push: ${line}`);
      const usage = (line: string) => {
        log(line);
        process.exitCode = 2;
      };
      if (opts.topic.length === 0) return usage('name at least one --topic');
      const url = pushUrl(opts.url ?? process.env[PUSH_ENV.url] ?? '');
      if (url === undefined) return usage(`--url (or ${PUSH_ENV.url}) must be the relay's http(s) URL`);
      const token = process.env[PUSH_ENV.token] ?? '';
      if (token === '')
        return usage(`${PUSH_ENV.token} is not set: the relay's push.token, from the environment`);
      const secrets = splitWebhookSecrets(process.env[PUSH_ENV.signingSecret] ?? '');
      if (secrets.length === 0 && !opts.unsigned)
        return usage(
          `${PUSH_ENV.signingSecret} is not set: the relay's push.signingSecret (whsec_...), or --unsigned for a relay with push.unsigned: true`,
        );
      if (secrets.some((s) => webhookSecretKey(s) === undefined))
        return usage(
          `${PUSH_ENV.signingSecret} must be whsec_ followed by a base64 key (several separated by spaces)`,
        );
      let connection: ReturnType<typeof kafkaConnectionFrom>;
      try {
        connection = kafkaConnectionFrom(opts);
      } catch (error) {
        return usage((error as Error).message);
      }
      const redact = createRedactor({
        secrets: [token, ...secrets, ...secrets.map((s) => s.replace(/^whsec_/, ''))],
      });
      const say = (line: string) => log(redact(line, 2000));
      const logger = {
        info: (message: string, fields?: Readonly<Record<string, unknown>>) =>
          say(`${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
        warn: (message: string, fields?: Readonly<Record<string, unknown>>) =>
          say(`${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
        error: (message: string, fields?: Readonly<Record<string, unknown>>) =>
          say(`${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
      };
      const source = createKafkaSource({
        brokers: opts.bootstrap
          .split(',')
          .map((b) => b.trim())
          .filter((b) => b !== ''),
        connection,
        groupId: opts.group,
        topics: opts.topic,
        clientId: 'ferry-push',
        fromBeginning: !opts.fromLatest,
        logger,
        onError: (error) =>
          say(`kafka: ${connectionFailure(error, connection) ?? (error as Error)?.message}`),
      });
      const forwarder = createForwarder({
        source,
        client: createPushClient({
          url,
          token,
          signer: secrets.length > 0 ? createWebhookSigner(secrets) : undefined,
          requestTimeoutMs: opts.requestTimeout,
        }),
        batchSize: opts.batchSize,
        maxBytes: opts.maxBytes,
        lingerMs: opts.linger,
        logger,
      });

      let stopping: Promise<void> | undefined;
      let stopRequested: () => void = () => {};
      const stopped = new Promise<void>((resolve) => {
        stopRequested = resolve;
      });
      const stop = (why: string, graceMs: number) => {
        if (stopping) return stopping;
        say(why);
        stopping = forwarder.stop({ graceMs });
        stopRequested();
        return stopping;
      };
      process.once('SIGINT', () => void stop('SIGINT: finishing the pushes on the wire', opts.stopGrace));
      process.once('SIGTERM', () => void stop('SIGTERM: finishing the pushes on the wire', opts.stopGrace));
      void forwarder.failed.then((error) => {
        say(`stopping: ${error.message}`);
        process.exitCode = 1;
        void stop('abandoning what is in flight, committing nothing more', 0);
      });

      try {
        await forwarder.start();
      } catch (error) {
        say(`cannot start: ${connectionFailure(error, connection) ?? (error as Error).message}`);
        process.exitCode = 1;
        await source.stop().catch(() => {});
        return;
      }
      say(
        `pushing ${opts.topic.join(', ')} (group ${opts.group}) to ${url}, ${secrets.length > 0 ? `signed with ${secrets.length} secret${secrets.length > 1 ? 's' : ''}` : 'unsigned'}`,
      );
      let before: ForwarderStats | undefined;
      let last = Date.now();
      const progress =
        opts.progress > 0
          ? setInterval(() => {
              const now = forwarder.stats();
              say(progressLine(now, before, Date.now() - last));
              before = now;
              last = Date.now();
            }, opts.progress)
          : undefined;
      await stopped;
      await stopping;
      clearInterval(progress);
      const s = forwarder.stats();
      say(
        `stopped: pushed ${s.pushedRecords} records in ${s.pushedBatches} batches, committed ${s.committedRecords} in ${s.committedBatches}, already done at the relay ${s.alreadyDone}, re-pushed after 202: ${s.repushes}, retries ${s.retries}`,
      );
    });
}
