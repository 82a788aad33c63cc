// `ferry transform build | check | run`: compile the AssemblyScript transforms and apply the broker's
// deploy-time checks; check one .wasm file; run a module beside Apache Kafka with the portable runner.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { basename } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import {
  buildTransforms,
  checkModule,
  connectionFailure,
  createTransformRunner,
  linkProblems,
  MAX_PIPELINE_DEPTH,
  type RunnerMetricsSnapshot,
  readModuleInfo,
} from '../../wasm/index.ts';
import { aliasFlag, durationFlag, formatDuration } from '../flags.ts';
import {
  addBootstrapFlag,
  addKafkaConnectionFlags,
  brokersFrom,
  type KafkaFlagValues,
  kafkaConnectionFrom,
} from '../kafka-flags.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive integer');
  return n;
}

function pipelineDepth(value: string): number {
  const n = positiveInt(value);
  if (n > MAX_PIPELINE_DEPTH) throw new InvalidArgumentError(`an integer from 1 to ${MAX_PIPELINE_DEPTH}`);
  return n;
}

function envPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError('K=V');
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * The broker's deploy-time checks (wasm/build) plus what its linker refuses at instantiate (wasm/host):
 * the deploy reasons when there are any (with the signature mismatches only the linker sees), else the
 * link problems.
 */
function refusals(bytes: Uint8Array, memoryLimitBytes?: number): string[] {
  const deploy = checkModule(bytes, memoryLimitBytes === undefined ? {} : { memoryLimitBytes });
  let link: string[];
  try {
    link = linkProblems(readModuleInfo(bytes));
  } catch (error) {
    link = [`invalid module: ${(error as Error).message}`];
  }
  if (deploy.ok) return link;
  return [...deploy.reasons, ...link.filter((p) => p.startsWith('incompatible import type'))];
}

function metricsLine(m: RunnerMetricsSnapshot): string {
  const lag = Object.values(m.lag).reduce((a, b) => a + b, 0);
  return `in=${m.recordsIn} out=${m.recordsOut} dead_lettered=${m.deadLettered} traps=${m.traps} lag=${lag} partitions=[${m.partitions.join(',')}]`;
}

export function register(cmd: Command): void {
  cmd
    .command('build')
    .description('compile the transforms and apply the broker’s deploy-time checks')
    .argument('[names...]', 'transform folders under transforms/ (default: all)')
    .option('--force', 'rebuild even when the sources did not change')
    .option('--out-dir <dir>', 'where <name>.wasm goes (default build/wasm)')
    .addHelpText(
      'after',
      `
Each module is checked as Redpanda checks a deploy (docs/abi.md §1, §10): _start and memory exports, a
check_abi_version_1/2 import, only the redpanda_transform / redpanda_schema_registry /
wasi_snapshot_preview1 imports, no declared memory maximum, initial memory within 2 MiB.
Exits 1 with the reasons when any module would be refused.

Examples:
  ferry transform build
  ferry transform build shipments --force`,
    )
    .action(async (names: string[], opts: { force?: boolean; outDir?: string }) => {
      const results = await buildTransforms({
        ...(names.length > 0 ? { names } : {}),
        ...(opts.force ? { force: true } : {}),
        ...(opts.outDir ? { outDir: opts.outDir } : {}),
      });
      let failed = 0;
      for (const r of results) {
        if (r.ok) {
          const bytes = await readFile(r.wasmPath);
          const extra = refusals(bytes);
          if (extra.length > 0) {
            failed++;
            console.log(`${r.name.padEnd(14)} REFUSED  ${kib(r.info.sizeBytes)}`);
            for (const reason of extra) console.log(`  - ${reason}`);
            continue;
          }
          console.log(
            `${r.name.padEnd(14)} ok       ${kib(r.info.sizeBytes).padStart(10)}  abi v${r.info.abiVersion}  ` +
              `memory ${r.info.memory.minPages} page(s)${r.cached ? '  (cached)' : ''}  ${r.wasmPath}`,
          );
        } else {
          failed++;
          console.log(`${r.name.padEnd(14)} FAILED`);
          for (const reason of r.reasons) console.log(`  - ${reason}`);
        }
      }
      if (failed > 0) process.exitCode = 1;
    });

  cmd
    .command('check')
    .description('check one .wasm file as the broker would at deploy and link time')
    .argument('<file>', 'the .wasm module')
    .option(
      '--memory-limit <bytes>',
      "the broker's data_transforms_per_function_memory_limit",
      positiveInt,
      2 * 1024 * 1024,
    )
    .addHelpText(
      'after',
      `
Prints the module's size, ABI version, imports and memory, or the reasons the broker would refuse it
(exit 1). Works on modules from any SDK (Go, Rust, C++, JS, AssemblyScript). A module built with the
standard Go toolchain starts with more than the default 2 MiB of memory: check it (and run it) with the
limit the broker is configured with.

Examples:
  ferry transform check build/wasm/shipments.wasm
  ferry transform check --memory-limit 16777216 validation.wasm`,
    )
    .action(async (file: string, opts: { memoryLimit: number }) => {
      const bytes = new Uint8Array(await readFile(file));
      const reasons = refusals(bytes, opts.memoryLimit);
      if (reasons.length > 0) {
        console.log(`${file}: REFUSED`);
        for (const r of reasons) console.log(`  - ${r}`);
        process.exitCode = 1;
        return;
      }
      const result = checkModule(bytes, { memoryLimitBytes: opts.memoryLimit });
      if (!result.ok) return;
      const { info } = result;
      console.log(`${file}: ok`);
      console.log(`  size      ${kib(info.sizeBytes)}`);
      console.log(`  abi       v${info.abiVersion}${info.usesSchemaRegistry ? ' + schema registry v0' : ''}`);
      console.log(`  memory    ${info.memory.minPages} initial page(s), no maximum`);
      console.log(`  imports   ${info.imports.join(', ')}`);
    });

  const run = cmd
    .command('run')
    .description('run a transform module on a Kafka topic (consumer group, one instance per partition)')
    .requiredOption('--module <file>', 'the .wasm module')
    .requiredOption('--input-topic <topic>', 'input topic')
    .requiredOption(
      '--output-topic <topic...>',
      'output topics, the first is the default (created if missing); repeatable',
    )
    .option('--name <name>', 'transform name (default: the module file name)')
    .option('--group <id>', 'consumer group (default ferry-transform-<name>)')
    .option('--from-latest', 'a new group starts at the end of the input topic (default: its beginning)')
    .option('--var <K=V>', 'environment variable for the transform, as rpk --var (repeatable)', envPair, {})
    .option('--batch <n>', 'most records per batch handed to the transform', positiveInt, 1000)
    .option('--memory-limit <bytes>', 'linear memory limit per instance', positiveInt, 2 * 1024 * 1024)
    .option(
      '--pipeline-depth <n>',
      `batches per partition in the transform at once, transformed ahead of the one being produced (1..${MAX_PIPELINE_DEPTH})`,
      pipelineDepth,
      4,
    )
    .option(
      '--record-timeout <duration>',
      `CPU budget per record before the instance is restarted (a bare number is ms; default ${formatDuration(3000)})`,
      durationFlag('ms'),
      3000,
    )
    .option(
      '--metrics-interval <duration>',
      `how often metrics are printed to stderr (a bare number is ms; default ${formatDuration(5000)})`,
      durationFlag('ms'),
      5000,
    )
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>/metrics', positiveInt);
  // The names before they followed rpk's (`--input-topic`, `--output-topic`, `--var`).
  aliasFlag(run, '--input <topic>', 'inputTopic');
  aliasFlag(run, '--output <topic...>', 'outputTopic', (v, prev) => [
    ...((prev as string[] | undefined) ?? []),
    v,
  ]);
  aliasFlag(run, '--env <K=V>', 'var', (v, prev) => envPair(v, prev as Record<string, string> | undefined));
  addKafkaConnectionFlags(addBootstrapFlag(run))
    .addHelpText(
      'after',
      `
Delivery: outputs are produced with acks=all by an idempotent producer and acknowledged before the
input offsets are committed, in input order, so a crash re-produces at most the batches in flight
(--pipeline-depth per partition) and never loses a record. --pipeline-depth 1 hands the transform one
batch at a time, as the broker does.
A group without committed offsets starts at the beginning of the input (--from-latest: at its end).
A record that traps restarts the instance with Redpanda's backoff (1 s doubling to 30 s) and is retried,
as in the broker. SIGINT/SIGTERM finish the batches in flight, commit, and leave the group.

Examples:
  ferry transform run --module build/wasm/shipments.wasm --input-topic cdc.public.shipments \\
    --output-topic clean.shipments --output-topic dlq.transform
  ferry transform run --module my.wasm --input-topic in --output-topic out --var KEY=value --metrics-port 9464
  FERRY_KAFKA_SASL_PASSWORD=... ferry transform run --module my.wasm --input-topic in --output-topic out \\
    --bootstrap-server broker:9093 --tls-ca ca.pem --sasl-mechanism SCRAM-SHA-512 --sasl-username ferry

The flags are named as rpk names them; the older --input, --output, --env and --bootstrap still work.`,
    )
    .action(
      async (
        opts: KafkaFlagValues & {
          module: string;
          inputTopic: string;
          outputTopic: string[];
          name?: string;
          group?: string;
          fromLatest?: boolean;
          var: Record<string, string>;
          bootstrapServer: string;
          batch: number;
          memoryLimit: number;
          pipelineDepth: number;
          recordTimeout: number;
          metricsInterval: number;
          metricsPort?: number;
        },
      ) => {
        const name = opts.name ?? basename(opts.module).replace(/\.wasm$/, '');
        const log = (line: string) => console.error(`[${new Date().toISOString()}] ${name}: ${line}`);
        let connection: ReturnType<typeof kafkaConnectionFrom>;
        try {
          connection = kafkaConnectionFrom(opts);
        } catch (error) {
          log(`cannot start: ${(error as Error).message}`);
          process.exitCode = 2;
          return;
        }
        const runner = createTransformRunner({
          module: new Uint8Array(await readFile(opts.module)),
          name,
          inputTopic: opts.inputTopic,
          outputTopics: opts.outputTopic,
          env: opts.var,
          brokers: brokersFrom(opts),
          connection,
          ...(opts.group ? { groupId: opts.group } : {}),
          startFrom: opts.fromLatest ? 'latest' : 'earliest',
          maxBatchRecords: opts.batch,
          memoryLimitBytes: opts.memoryLimit,
          pipelineDepth: opts.pipelineDepth,
          recordTimeoutMs: opts.recordTimeout,
          metricsIntervalMs: opts.metricsInterval,
          onMetrics: (m) => log(metricsLine(m)),
          onEvent: log,
          onLog: (level, message) => log(`[${level}] ${message.replace(/\n$/, '')}`), // one event per fd_write
        });
        const server =
          opts.metricsPort === undefined
            ? null
            : createServer((req, res) => {
                if (req.url !== '/metrics') {
                  res.writeHead(404).end();
                  return;
                }
                res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(runner.prometheus());
              }).listen(opts.metricsPort, '127.0.0.1');
        const shutdown = (signal: string) => {
          log(`${signal}: finishing the batches in flight`);
          void runner.stop();
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        try {
          await runner.start();
        } catch (error) {
          log(`cannot start: ${connectionFailure(error, connection) ?? (error as Error).message}`);
          server?.close();
          process.exitCode = 1;
          return;
        }
        log(`running: ${opts.inputTopic} -> ${opts.outputTopic.join(', ')}`);
        try {
          await runner.done;
        } catch (error) {
          log(`stopped: ${connectionFailure(error, connection) ?? (error as Error).message}`);
          process.exitCode = 1;
        } finally {
          server?.close();
        }
      },
    );
}
