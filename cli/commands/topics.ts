// `ferry topics watch`: a live count of records per topic (cdc.*, clean.*, dlq.* by default), from
// partition offsets (high-water mark minus log start), with the rate since the previous refresh.
// On a terminal the table redraws in place; otherwise it prints one line per refresh.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { countTopics, createAdmin, type TopicCount } from '../../deploy/local/topic-counts.ts';
import { connectionFailure } from '../../wasm/index.ts';
import { durationFlag, formatDuration } from '../flags.ts';
import {
  addBootstrapFlag,
  addKafkaConnectionFlags,
  type KafkaFlagValues,
  kafkaConnectionFrom,
} from '../kafka-flags.ts';

/** The admin client and connection the flags describe; undefined (one line, exit code 2) when they are invalid. */
function adminFrom(opts: KafkaFlagValues & { bootstrapServer: string }, clientId: string) {
  let connection: ReturnType<typeof kafkaConnectionFrom>;
  try {
    connection = kafkaConnectionFrom(opts);
  } catch (error) {
    console.error(`ferry topics: ${(error as Error).message}`);
    process.exitCode = 2;
    return undefined;
  }
  return { admin: createAdmin({ bootstrap: opts.bootstrapServer, clientId, connection }), connection };
}

function render(counts: TopicCount[], previous: Map<string, number>, dtMs: number): string[] {
  if (counts.length === 0) return ['(no matching topics yet)'];
  const width = Math.max(5, ...counts.map((c) => c.topic.length));
  const lines = [`${'TOPIC'.padEnd(width)}  ${'RECORDS'.padStart(10)}  ${'PER SEC'.padStart(8)}  PARTS`];
  let total = 0;
  for (const c of counts) {
    total += c.records;
    const before = previous.get(c.topic);
    const rate =
      before === undefined || dtMs <= 0 ? '' : String(Math.round(((c.records - before) * 1000) / dtMs));
    lines.push(
      `${c.topic.padEnd(width)}  ${String(c.records).padStart(10)}  ${rate.padStart(8)}  ${c.partitions.length}`,
    );
  }
  lines.push(`${'total'.padEnd(width)}  ${String(total).padStart(10)}`);
  return lines;
}

export function register(cmd: Command): void {
  addKafkaConnectionFlags(
    addBootstrapFlag(
      cmd
        .command('watch')
        .description('live count of records per topic (cdc.*, clean.*, dlq.*)')
        .option('--once', 'print the counts once and exit')
        .option(
          '-i, --interval <duration>',
          `refresh interval (a bare number is seconds; default ${formatDuration(1000)})`,
          durationFlag('s', { min: 100 }),
          1000,
        )
        .option('-p, --prefix <prefix...>', 'topic name prefixes to show', ['cdc.', 'clean.', 'dlq.']),
    ),
  )
    .addHelpText(
      'after',
      `
Counts come from partition offsets (high-water mark minus log start), so watching costs nothing.
On a terminal the table refreshes in place; piped, it prints a timestamped line per refresh.
Ctrl-C stops.

Examples:
  ferry topics watch
  ferry topics watch --once --prefix cdc.public.`,
    )
    .action(
      async (
        opts: KafkaFlagValues & {
          once?: boolean;
          interval: number;
          prefix: string[];
          bootstrapServer: string;
        },
      ) => {
        const client = adminFrom(opts, 'ferry-topics-watch');
        if (!client) return;
        const { admin, connection } = client;
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        const tty = process.stdout.isTTY === true && !opts.once;
        const previous = new Map<string, number>();
        let drawn = 0;
        let last = Date.now();
        try {
          while (!abort.signal.aborted) {
            const counts = await countTopics(admin, opts.prefix);
            const now = Date.now();
            const lines = render(counts, previous, now - last);
            if (opts.once) {
              console.log(lines.join('\n'));
              break;
            }
            if (tty) {
              if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`);
              process.stdout.write(lines.map((l) => `\x1b[2K${l}`).join('\n') + '\n');
              drawn = lines.length;
            } else {
              const parts = counts.map((c) => `${c.topic}=${c.records}`).join(' ');
              console.log(`${new Date(now).toISOString()} ${parts || '(no matching topics yet)'}`);
            }
            previous.clear();
            for (const c of counts) previous.set(c.topic, c.records);
            last = now;
            await sleep(opts.interval, undefined, { signal: abort.signal }).catch(() => {});
          }
        } catch (error) {
          const why = connectionFailure(error, connection);
          console.error(
            why
              ? `ferry topics: ${why}`
              : `ferry topics: ${(error as Error).message} (is Kafka up on ${opts.bootstrapServer}? bin/ferry stack up)`,
          );
          process.exitCode = 1;
        } finally {
          await admin.close().catch(() => {});
        }
      },
    );

  addKafkaConnectionFlags(
    addBootstrapFlag(
      cmd.command('count').description('print the number of records in one topic').argument('<topic>'),
    ),
  ).action(async (topic: string, opts: KafkaFlagValues & { bootstrapServer: string }) => {
    const client = adminFrom(opts, 'ferry-topics-count');
    if (!client) return;
    const { admin, connection } = client;
    try {
      const [c] = await countTopics(admin, [topic]).then((all) => all.filter((t) => t.topic === topic));
      if (!c) {
        console.error(`ferry topics: topic ${topic} does not exist`);
        process.exitCode = 1;
        return;
      }
      console.log(c.records);
    } catch (error) {
      console.error(`ferry topics: ${connectionFailure(error, connection) ?? (error as Error).message}`);
      process.exitCode = 1;
    } finally {
      await admin.close().catch(() => {});
    }
  });
}
