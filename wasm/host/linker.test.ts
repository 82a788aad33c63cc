// docs/abi.md §0, §1 "Link-time" and §10 (memory): what the broker's linker refuses, the host refuses at
// instantiate with FERRY_WASM_LINK; what it accepts (v1 and v2 guests) runs.
import { describe, expect, it } from 'vitest';
import { buildModule, echoV1Module, minimalModule, op } from '../../test/support/wasm-builder.ts';
import { LINKER, readModuleInfo, withMemoryMax } from '../module/index.ts';
import { isFerryWasmError } from './errors.ts';
import { createTransformHost } from './host.ts';
import type { TransformHostOptions } from './types.ts';

const RT = 'redpanda_transform';

async function refusal(module: Uint8Array, extra: Partial<TransformHostOptions> = {}): Promise<string> {
  try {
    const host = await createTransformHost({ module, inputTopic: 'in', outputTopics: ['out'], ...extra });
    await host.close();
  } catch (error) {
    if (isFerryWasmError(error) && error.code === 'FERRY_WASM_LINK') return error.message;
    throw error;
  }
  return 'accepted';
}

describe('§1 link-time: only three host modules, each with a fixed set of functions', () => {
  it('defines all 46 preview1 names, 6 transform and 6 schema-registry functions', () => {
    expect(Object.keys(LINKER).sort()).toEqual([
      'redpanda_schema_registry',
      'redpanda_transform',
      'wasi_snapshot_preview1',
    ]);
    expect(Object.keys(LINKER.wasi_snapshot_preview1!)).toHaveLength(46);
    expect(Object.keys(LINKER.redpanda_transform!)).toHaveLength(6);
    expect(Object.keys(LINKER.redpanda_schema_registry!)).toHaveLength(6);
  });
  it('accepts the minimal v2 module', async () => {
    // _start returns at once: that is a failure at run time (§11 "vm has exited"), not a link error.
    await expect(refusal(minimalModule())).rejects.toMatchObject({ code: 'FERRY_WASM_TRAP', kind: 'exited' });
  });
  it("refuses AssemblyScript's default env.abort", async () => {
    const m = minimalModule({
      imports: [
        { module: RT, name: 'check_abi_version_2' },
        { module: 'env', name: 'abort', params: ['i32', 'i32', 'i32', 'i32'] },
      ],
    });
    expect(await refusal(m)).toMatch(/import env\.abort: module "env" is not linked by the broker/);
  });
  it('refuses an unknown name inside a known module (v3 read_batch_metadata is not defined)', async () => {
    const m = minimalModule({
      imports: [
        { module: RT, name: 'check_abi_version_2' },
        { module: RT, name: 'read_batch_metadata', params: ['i32', 'i32', 'i32'], results: ['i32'] },
      ],
    });
    expect(await refusal(m)).toMatch(
      /import redpanda_transform\.read_batch_metadata: not a function the broker defines/,
    );
  });
  it('refuses a known import with the wrong signature', async () => {
    const m = minimalModule({
      imports: [
        { module: RT, name: 'check_abi_version_2' },
        {
          module: 'wasi_snapshot_preview1',
          name: 'clock_time_get',
          params: ['i32', 'i32', 'i32'],
          results: ['i32'],
        },
      ],
    });
    expect(await refusal(m)).toMatch(
      /import wasi_snapshot_preview1\.clock_time_get: has signature \(i32, i32, i32\) -> \(i32\), the broker defines \(i32, i64, i32\) -> \(i32\)/,
    );
  });
  it('refuses a module without _start, or with _start of the wrong type', async () => {
    const noStart = minimalModule({ functions: [{ export: 'main', body: [...op.call(0)] }] });
    expect(await refusal(noStart)).toMatch(/missing _start function/);
    const badStart = minimalModule({
      functions: [{ export: '_start', params: ['i32'], body: [...op.call(0)] }],
    });
    expect(await refusal(badStart)).toMatch(/missing _start function/);
  });
  it('refuses a module without a memory export named "memory" (§0, §1.2)', async () => {
    expect(await refusal(minimalModule({ memory: { min: 1, exportName: null } }))).toMatch(
      /must export its memory as "memory"/,
    );
    expect(await refusal(minimalModule({ memory: { min: 1, exportName: 'mem' } }))).toMatch(
      /invalid memory export name/,
    );
  });
  it('refuses a module whose initial memory exceeds the per-transform limit (§10)', async () => {
    expect(await refusal(minimalModule({ memory: { min: 33 } }))).toMatch(/unable to allocate memory/);
    expect(await refusal(minimalModule({ memory: { min: 16 } }), { memoryLimitBytes: 512 * 1024 })).toMatch(
      /unable to allocate memory/,
    );
  });
  it('refuses a module that declares a memory maximum (§10 [inferred] heap allocator bounds)', async () => {
    expect(await refusal(minimalModule({ memory: { min: 1, max: 16 } }))).toMatch(
      /the memory declares a maximum/,
    );
  });
  it('refuses bytes that are not a Wasm module', async () => {
    expect(await refusal(new TextEncoder().encode('not wasm'))).toMatch(/invalid module/);
  });
});

describe('§10 memory limit: the defined memory gets max = limit', () => {
  it('rewrites the memory section and keeps the module valid', async () => {
    const m = minimalModule({ memory: { min: 2 } });
    const info = readModuleInfo(m);
    const patched = withMemoryMax(m, info, 32);
    expect(readModuleInfo(patched).memories).toEqual([{ min: 2n, max: 32n, shared: false, memory64: false }]);
    expect(WebAssembly.validate(patched as Uint8Array<ArrayBuffer>)).toBe(true);
  });
});

describe('§4 ABI v1 guests run', () => {
  it('a hand-assembled v1 pass-through guest echoes records unchanged (§5 same format both ways)', async () => {
    const host = await createTransformHost({
      module: echoV1Module(),
      inputTopic: 'in',
      outputTopics: ['out'],
    });
    try {
      const records = [
        {
          key: new Uint8Array([1, 2]),
          value: null,
          headers: [{ key: 'h', value: new Uint8Array([3]) }],
          offset: 7n,
          timestamp: 1,
        },
        {
          key: null,
          value: new Uint8Array(0),
          headers: [{ key: 'n', value: null }],
          offset: 8n,
          timestamp: 2,
        },
      ];
      const { outputs } = await host.process({ baseOffset: 7n, records });
      expect(outputs).toEqual(
        records.map(({ key, value, headers }) => ({ topic: 'out', key, value, headers })),
      );
    } finally {
      await host.close();
    }
  });
  it('a Wasm start section runs during instantiation', async () => {
    // start function = unreachable: the instance traps before _start (§1 "Start").
    const m = buildModule({
      imports: [{ module: RT, name: 'check_abi_version_1' }],
      memory: { min: 1 },
      functions: [{ export: '_start', body: [...op.call(0)] }, { body: [op.unreachable] }],
      start: 2,
    });
    await expect(
      createTransformHost({ module: m, inputTopic: 'in', outputTopics: ['out'] }),
    ).rejects.toMatchObject({
      code: 'FERRY_WASM_TRAP',
      message: expect.stringMatching(/unreachable/),
    });
  });
});
