// `ferry generate`: supply-chain changes into PostgreSQL at a rate, for a duration or a count, with
// a share of deliberately bad rows. Prints progress and, at the end, counts per table and op.
import { type Command, InvalidArgumentError } from 'commander';
import {
  type Counts,
  type GenerateResult,
  generate,
  type Progress,
} from '../../deploy/local/generator/index.ts';
import { durationFlag } from '../flags.ts';

const number = (name: string, { min = 0, max = Number.POSITIVE_INFINITY } = {}) =>
  function parse(value: string): number {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]`);
    }
    return n;
  };

function table(counts: Counts): string {
  const rows = [['TABLE', 'INSERT', 'UPDATE', 'DELETE', 'TOTAL']];
  for (const [name, c] of Object.entries(counts)) {
    rows.push([
      name,
      String(c.insert),
      String(c.update),
      String(c.delete),
      String(c.insert + c.update + c.delete),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
    )
    .join('\n');
}

const line = (p: Progress) =>
  `${p.total} changes in ${(p.elapsedMs / 1000).toFixed(1)} s (${Math.round(p.total / Math.max(p.elapsedMs / 1000, 0.001))}/s), bad ${Object.values(p.bad).reduce((s, n) => s + (n ?? 0), 0)}`;

export function register(cmd: Command): void {
  cmd
    .description('write supply-chain changes (inserts, updates, deletes, bad rows) into PostgreSQL')
    .option('-r, --rate <n>', 'changes per second (0 = as fast as possible)', number('rate'), 100)
    .option(
      '-d, --duration <time>',
      'run for this long (e.g. 30s, 5m; a bare number is seconds)',
      durationFlag('s'),
    )
    .option(
      '-n, --count <n>',
      'stop after this many changes (default 1000 without --duration)',
      number('count', { min: 1 }),
    )
    .option(
      '-b, --bad-share <x>',
      'share of inserts/updates that are deliberately bad, 0..1',
      number('bad-share', { max: 1 }),
      0.05,
    )
    .option(
      '-s, --seed <n>',
      'random seed: same seed and same starting rows = same changes',
      number('seed'),
      1,
    )
    .option('--json', 'print the summary as JSON (with --changes, every change too)')
    .option('--changes', 'with --json, include the list of committed changes')
    .addHelpText(
      'after',
      `
Writes to trailers, loads and shipments in supply_chain on 127.0.0.1:15432 (the local stack).
Bad rows are accepted by the database on purpose: missing fields, negative weights, unknown
facility codes, impossible status transitions. Validation happens downstream.
Ctrl-C stops early and still prints the summary.

Examples:
  ferry generate --rate 200 --duration 1m --bad-share 0.1
  ferry generate --count 5000 --rate 0 --seed 42`,
    )
    .action(
      async (opts: {
        rate: number;
        duration?: number;
        count?: number;
        badShare: number;
        seed: number;
        json?: boolean;
        changes?: boolean;
      }) => {
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        const tty = process.stderr.isTTY && !opts.json;
        let result: GenerateResult;
        try {
          result = await generate({
            rate: opts.rate,
            ...(opts.count !== undefined ? { count: opts.count } : {}),
            ...(opts.duration !== undefined ? { durationMs: opts.duration } : {}),
            badShare: opts.badShare,
            seed: opts.seed,
            signal: abort.signal,
            onProgress: (p) => {
              if (opts.json) return;
              if (tty) process.stderr.write(`\r${line(p)}   `);
              else console.error(line(p));
            },
          });
        } catch (error) {
          console.error(
            `\nferry generate: ${(error as Error).message}\nIs the stack up? Try: bin/ferry stack up`,
          );
          process.exit(1);
        }
        if (tty) process.stderr.write('\n');
        if (opts.json) {
          const { changes, ...summary } = result;
          console.log(JSON.stringify(opts.changes ? { ...summary, changes } : summary, null, 2));
          return;
        }
        console.log(table(result.counts));
        const bad = Object.entries(result.bad)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ');
        console.log(`\n${line(result)}${bad ? ` (${bad})` : ''}`);
        if (result.failedTransactions > 0) {
          console.log(
            `${result.failedTransactions} transaction(s) rolled back (a concurrent writer) and not counted`,
          );
        }
      },
    );
}
