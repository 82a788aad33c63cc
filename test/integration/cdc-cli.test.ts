// The command-line faces of the CDC tools: `ferry generate` reports what it committed, and
// `ferry topics watch --once` shows the counts that the topics really have.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cdcTopic, ROOT } from '../../deploy/local/config.ts';
import { countRecords } from '../support/kafka.ts';
import { waitUntil } from '../support/wait.ts';

const run = promisify(execFile);
const ferry = (...args: string[]) => run(join(ROOT, 'bin', 'ferry'), args, { cwd: ROOT, timeout: 120_000 });

describe('ferry generate and ferry topics watch', () => {
  it('generate --json reports counts per table and op that add up to --count', async () => {
    const { stdout } = await ferry(
      'generate',
      '--count',
      '120',
      '--rate',
      '0',
      '--seed',
      '5',
      '--bad-share',
      '0.3',
      '--json',
    );
    const summary = JSON.parse(stdout) as {
      total: number;
      counts: Record<string, Record<'insert' | 'update' | 'delete', number>>;
      bad: Record<string, number>;
    };
    expect(summary.total).toBe(120);
    const sum = Object.values(summary.counts).reduce((s, c) => s + c.insert + c.update + c.delete, 0);
    expect(sum).toBe(120);
    expect(Object.values(summary.bad).reduce((s, n) => s + n, 0)).toBeGreaterThan(0);
  });

  it('generate prints a table of table × op', async () => {
    const { stdout } = await ferry('generate', '--count', '30', '--rate', '0');
    expect(stdout).toMatch(/TABLE\s+INSERT\s+UPDATE\s+DELETE\s+TOTAL/);
    expect(stdout).toMatch(/shipments\s+\d+\s+\d+\s+\d+\s+\d+/);
    expect(stdout).toMatch(/30 changes in/);
  });

  it('topics watch --once prints the record count of each cdc topic', async () => {
    const topic = cdcTopic('shipments');
    // The count moves while others write; accept the line when it matches a count taken around it.
    await waitUntil(
      async () => {
        const before = await countRecords(topic);
        const { stdout } = await ferry('topics', 'watch', '--once', '--prefix', 'cdc.');
        const after = await countRecords(topic);
        const line = stdout.split('\n').find((l) => l.startsWith(`${topic} `));
        const shown = Number(line?.trim().split(/\s+/)[1]);
        return shown >= before && shown <= after;
      },
      { timeoutMs: 30_000, message: 'topics watch count matches the topic' },
    );
  });
});
