// The host runs on Node, Deno and Bun (docs/architecture.md#runtimes): the same worker code, started through
// node:worker_threads on Node and Deno and as a web Worker on Bun (worker-spawn.ts). Deno and Bun come from
// the npm registry (devDependencies `deno`, `bun`).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmokeInputRecord } from '../../test/support/host-runtime-smoke.ts';
import { probeModule } from '../../test/support/probe-module.ts';
import { caseHeaders, caseValue, loadCorpus, transformModule } from '../../test/support/transforms.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const expected = { outputs: 1, value: 'hi', headers: 1 };

type Runtime = 'node' | 'deno' | 'bun';
const RUNTIMES: readonly Runtime[] = ['node', 'deno', 'bun'];

/** Runs a script under one runtime from the repository root; resolves with its stdout. */
async function runScript(runtime: Runtime, script: string, args: string[] = []): Promise<string> {
  const [cmd, pre] =
    runtime === 'node'
      ? [process.execPath, []]
      : runtime === 'deno'
        ? [`${root}node_modules/.bin/deno`, ['run', '--allow-read', '--allow-env']]
        : [`${root}node_modules/.bin/bun`, ['run']];
  const { stdout } = await run(cmd, [...pre, script, ...args], {
    cwd: root,
    timeout: 90_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
}

describe('host runtimes: a v1 pass-through guest', () => {
  it.each(RUNTIMES)('%s', async (runtime) => {
    expect(JSON.parse(await runScript(runtime, 'test/support/host-smoke.ts'))).toEqual(expected);
  });
});

interface Summary {
  topic: string;
  eventId?: string;
  code?: string;
  field?: string;
  sha256: string;
}
interface SmokeReport {
  perRecord: Summary[][];
  pipelinedSameAsOneByOne: boolean;
  bigBatch: { records: number; inputBytes: number; outputs: number; sha256: string };
  probe: Record<string, unknown>;
}

describe('host runtimes: the shipments transform and the failure semantics, same on every runtime', () => {
  const corpus = loadCorpus('shipments');
  const reports = new Map<Runtime, SmokeReport>();
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-host-runtimes-'));
    const b64 = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('base64'));
    const input: SmokeInputRecord[] = corpus.map((c) => ({
      key: c.key === null ? null : b64(new TextEncoder().encode(c.key)),
      value: b64(caseValue(c)),
      headers: caseHeaders(c).map((h) => ({ key: h.key, value: b64(h.value) })),
    }));
    await writeFile(join(dir, 'shipments.wasm'), await transformModule('shipments'));
    await writeFile(join(dir, 'probe.wasm'), await probeModule());
    await writeFile(join(dir, 'input.json'), JSON.stringify(input));
  }, 120_000);
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it.each(RUNTIMES)(
    '%s: corpus verdicts, a batch past the initial shared region, trap, out_of_fuel, memory limit',
    async (runtime) => {
      // Node and Deno end the thread the watchdog stopped, so their smoke ends by itself; Bun cannot
      // (worker-spawn.ts), so its smoke exits explicitly.
      const args = runtime === 'bun' ? [dir, '--exit'] : [dir];
      const report = JSON.parse(
        await runScript(runtime, 'test/support/host-runtime-smoke.ts', args),
      ) as SmokeReport;
      reports.set(runtime, report);

      // Every record's verdict is the one the corpus states.
      expect(report.perRecord).toHaveLength(corpus.length);
      for (const [i, c] of corpus.entries()) {
        const outputs = report.perRecord[i]!;
        const verdict =
          outputs.length === 0
            ? { verdict: 'drop' }
            : outputs[0]!.topic === 'dlq.transform'
              ? { verdict: 'dlq', code: outputs[0]!.code, field: outputs[0]!.field }
              : { verdict: 'clean' };
        expect({ name: c.name, ...verdict }).toEqual({ name: c.name, ...c.expect });
        if (verdict.verdict === 'clean') expect(outputs[0]!.eventId).toMatch(/^pg:shipments:/);
      }
      expect(report.pipelinedSameAsOneByOne).toBe(true);
      expect(report.bigBatch.records).toBe(4000);
      expect(report.bigBatch.inputBytes).toBeGreaterThan(1 << 20);
      expect(report.bigBatch.outputs).toBeGreaterThan(0);
      expect(report.probe).toEqual({
        trap: { code: 'FERRY_WASM_TRAP', kind: 'trap', offset: '101' },
        afterTrap: ['0909090909090909'],
        outOfFuel: { code: 'FERRY_WASM_TRAP', kind: 'out_of_fuel', offset: '302' },
        afterOutOfFuel: ['0909090909090909'],
        growBeyondLimit: '-1',
        probeStats: { traps: 2, restarts: 2 },
      });
    },
    120_000,
  );
  it('gives byte-for-byte the same outputs on Deno and Bun as on Node', () => {
    expect(reports.get('deno')).toEqual(reports.get('node'));
    expect(reports.get('bun')).toEqual(reports.get('node'));
    expect(reports.get('node')).toBeDefined();
  });
});
