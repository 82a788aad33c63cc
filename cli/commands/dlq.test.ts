// ferry dlq reprocess refuses bad input with one clear line (exit code 2) before touching Kafka.
import { describe, expect, it } from 'vitest';
import { CliError } from '../errors.ts';
import { reprocess } from './dlq.ts';

const base = { transform: 'shipments', show: '10', bootstrapServer: '127.0.0.1:1' };

async function refusal(opts: Partial<Parameters<typeof reprocess>[0]>): Promise<CliError> {
  const lines: string[] = [];
  const error = await reprocess({ ...base, ...opts }, (l) => lines.push(l)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  expect(lines).toEqual([]);
  return error as CliError;
}

describe('ferry dlq reprocess input', () => {
  it('names the unknown transform', async () => {
    const e = await refusal({ transform: 'no-such-entity' });
    expect([e.exitCode, e.message]).toEqual([
      2,
      'no transform named "no-such-entity" (no folder transforms/no-such-entity/)',
    ]);
  });
  it('refuses a limit that is not a whole number >= 1', async () => {
    for (const limit of ['0', '-3', 'ten', '1.5']) {
      const e = await refusal({ limit });
      expect([e.exitCode, e.message]).toEqual([2, `--limit must be a whole number >= 1 (got "${limit}")`]);
    }
  });
  it('refuses a time that is neither ISO-8601 nor a duration ago', async () => {
    const e = await refusal({ since: 'last tuesday' });
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^--since: "last tuesday" is neither an ISO-8601 time nor a duration ago/);
    expect((await refusal({ until: '5 minutes' })).message).toMatch(/^--until:/);
  });
  it('refuses a bad --show', async () => {
    expect((await refusal({ show: 'all' })).exitCode).toBe(2);
  });
});
