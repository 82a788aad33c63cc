// The deploy-time checks (docs/abi.md §1, §10) on hand-made modules and on the real transforms.
import { describe, expect, it } from 'vitest';
import { buildTransformsOrThrow } from './build.ts';
import { checkModule } from './check.ts';
import {
  exportEntry,
  functype,
  I32,
  I64,
  limits,
  moduleBytes,
  name,
  transformModule,
  uleb,
  vec,
} from './wasm-writer.ts';

const reasons = (bytes: Uint8Array) => {
  const r = checkModule(bytes);
  return r.ok ? [] : r.reasons;
};

describe('checkModule', () => {
  it('accepts the smallest module the broker accepts (ABI v2)', () => {
    const r = checkModule(transformModule());
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.info.abiVersion).toBe(2);
      expect(r.info.exports).toEqual(['_start', 'memory']);
      expect(r.info.memory).toEqual({ minPages: 1, maxPages: null });
    }
  });

  it('accepts ABI v1, the schema registry v0 and any registered WASI function', () => {
    const r = checkModule(
      transformModule({
        imports: [
          ['redpanda_transform', 'check_abi_version_1', functype([], [])],
          ['redpanda_transform', 'read_batch_header', functype(Array(10).fill(I32), [I32])],
          ['redpanda_schema_registry', 'check_abi_version_0', functype([], [])],
          ['wasi_snapshot_preview1', 'sock_accept', functype([I32, I32, I32], [I32])],
        ],
      }),
    );
    expect(r.ok && r.info.abiVersion).toBe(1);
    expect(r.ok && r.info.usesSchemaRegistry).toBe(true);
  });

  it('refuses a module without the ABI check import (§1.3)', () => {
    expect(reasons(transformModule({ imports: [] }))).toContain(
      'missing transform sdk ABI check function (import redpanda_transform.check_abi_version_1 or _2)',
    );
  });

  it('refuses ABI v3, which the broker of this ABI does not define', () => {
    const r = reasons(
      transformModule({ imports: [['redpanda_transform', 'check_abi_version_3', functype([], [])]] }),
    );
    expect(r.join('\n')).toMatch(/check_abi_version_3: not a function the broker defines/);
    expect(r.join('\n')).toMatch(/missing transform sdk ABI check function/);
  });

  it("refuses AssemblyScript's default env.abort (the linker defines only three modules)", () => {
    const r = reasons(
      transformModule({
        imports: [
          ['redpanda_transform', 'check_abi_version_2', functype([], [])],
          ['env', 'abort', functype([I32, I32, I32, I32], [])],
        ],
      }),
    );
    expect(r.join('\n')).toMatch(/import env\.abort: module "env" is not linked by the broker.*--use abort/);
  });

  it('refuses a known function imported with the wrong signature', () => {
    const r = reasons(
      transformModule({
        imports: [
          ['redpanda_transform', 'check_abi_version_2', functype([], [])],
          ['redpanda_transform', 'write_record', functype([I32, I64], [I32])],
        ],
      }),
    );
    expect(r.join('\n')).toMatch(
      /write_record: has signature \(i32, i64\) -> \(i32\), the broker defines \(i32, i32\) -> \(i32\)/,
    );
  });

  it('refuses unknown WASI functions and a schema registry check other than v0 (§1.4)', () => {
    const r = reasons(
      transformModule({
        imports: [
          ['redpanda_transform', 'check_abi_version_2', functype([], [])],
          ['wasi_snapshot_preview1', 'thread_spawn', functype([I32], [I32])],
          ['redpanda_schema_registry', 'check_abi_version_1', functype([], [])],
        ],
      }),
    );
    expect(r.join('\n')).toMatch(/thread_spawn: not a WASI function/);
    expect(r.join('\n')).toMatch(/must be check_abi_version_0/);
  });

  it('refuses a missing _start and a _start with parameters (§1.1)', () => {
    expect(reasons(transformModule({ exports: [exportEntry('memory', 'memory', 0)] }))).toContain(
      'invalid module: missing _start function',
    );
    expect(reasons(transformModule({ startType: functype([I32], []) })).join('\n')).toMatch(
      /_start has type \(i32\) -> \(\), want \(\) -> \(\)/,
    );
  });

  it('refuses a memory exported under another name, or not at all (§1.2)', () => {
    const r = reasons(
      transformModule({ exports: [exportEntry('_start', 'func', 1), exportEntry('mem', 'memory', 0)] }),
    );
    expect(r).toContain('invalid memory export name "mem"');
    expect(r).toContain('the module must export its memory as "memory"');
  });

  it('refuses a declared memory maximum with the reason (§10)', () => {
    expect(reasons(transformModule({ memory: limits(1, 1, 16) })).join('\n')).toMatch(
      /declares a maximum \(16 pages\).*unable to allocate memory within requested bounds.*--maximumMemory/,
    );
  });

  it('refuses 64-bit memory and an initial memory over the limit', () => {
    expect(reasons(transformModule({ memory: limits(4, 1) })).join('\n')).toMatch(/64-bit/);
    expect(reasons(transformModule({ memory: limits(0, 64) })).join('\n')).toMatch(
      /over the per-transform memory limit/,
    );
    expect(checkModule(transformModule({ memory: limits(0, 64) }), { memoryLimitBytes: 8 << 20 }).ok).toBe(
      true,
    );
  });

  it('refuses an imported memory (the linker defines functions only)', () => {
    const bytes = moduleBytes([
      { id: 1, body: vec([functype([], [])]) },
      {
        id: 2,
        body: vec([
          [...name('redpanda_transform'), ...name('check_abi_version_2'), 0x00, 0x00],
          [...name('env'), ...name('memory'), 0x02, 0x00, 0x01],
        ]),
      },
      { id: 3, body: vec([[0]]) },
      { id: 7, body: vec([exportEntry('_start', 'func', 1), exportEntry('memory', 'memory', 0)]) },
      { id: 10, body: vec([[2, 0x00, 0x0b]]) },
    ]);
    expect(reasons(bytes).join('\n')).toMatch(/env\.memory: imports a memory/);
  });

  it('refuses sections out of order, repeated or unknown, and accepts custom sections anywhere (§1.5)', () => {
    const good = transformModule({ extraSections: [{ id: 0, body: name('note') }] });
    expect(checkModule(good).ok).toBe(true);
    const swapped = moduleBytes([
      { id: 2, body: vec([[...name('redpanda_transform'), ...name('check_abi_version_2'), 0x00, 0x00]]) },
      { id: 1, body: vec([functype([], [])]) },
    ]);
    expect(reasons(swapped).join('\n')).toMatch(/section type \(1\) is out of order or repeated/);
    expect(reasons(transformModule({ extraSections: [{ id: 13, body: [0] }] })).join('\n')).toMatch(
      /unknown section id 13/,
    );
    // datacount (12) goes between element (9) and code (10): before code is fine, after it is not
    expect(checkModule(transformModule({ extraSections: [{ id: 12, body: uleb(0) }] })).ok).toBe(true);
    const late = new Uint8Array([...transformModule(), 12, 1, 0]);
    expect(reasons(late).join('\n')).toMatch(/section datacount \(12\) is out of order/);
  });

  it('refuses global initialisers beyond constants and global.get (§1.5)', () => {
    const i32Const = [I32, 0x00, 0x41, 0x05, 0x0b];
    const added = [I32, 0x00, 0x41, 0x01, 0x41, 0x02, 0x6a, 0x0b]; // extended-const i32.add
    expect(checkModule(transformModule({ globals: [i32Const] })).ok).toBe(true);
    expect(reasons(transformModule({ globals: [added] })).join('\n')).toMatch(
      /global 0: initialiser must be one/,
    );
  });

  it('refuses v128 in a signature (the parser has no v128 value type), not SIMD inside functions', () => {
    const V128 = 0x7b;
    const r = reasons(
      transformModule({
        imports: [
          ['redpanda_transform', 'check_abi_version_2', functype([], [])],
          ['wasi_snapshot_preview1', 'fd_write', functype([V128], [I32])],
        ],
      }),
    );
    expect(r.join('\n')).toMatch(/has a v128 param or result; the broker's parser knows no v128 value type/);
  });

  it('refuses names over 512 bytes', () => {
    const long = 'x'.repeat(513);
    const r = reasons(
      transformModule({
        exports: [
          exportEntry('_start', 'func', 1),
          exportEntry('memory', 'memory', 0),
          exportEntry(long, 'func', 1),
        ],
      }),
    );
    expect(r.join('\n')).toMatch(/export 2 \(513 bytes\): names are capped at 512 bytes/);
  });

  it('reports malformed bytes as a reason, never an exception', () => {
    expect(reasons(new Uint8Array([1, 2, 3]))).toEqual([
      'not a valid Wasm module: too short to be a Wasm module',
    ]);
    expect(reasons(new TextEncoder().encode('{"not":"wasm"}'))[0]).toMatch(/missing the \\0asm magic/);
    expect(reasons(moduleBytes([], 2))[0]).toMatch(/version 2/);
    const truncated = transformModule().slice(0, 20);
    expect(reasons(truncated)[0]).toMatch(/not a valid Wasm module/);
  });

  it('accepts every transform in the repository as built by the preset', async () => {
    const results = await buildTransformsOrThrow();
    for (const r of results) {
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.info.memory.maxPages).toBeNull();
      expect(r.info.exports).toEqual(expect.arrayContaining(['_start', 'memory']));
      expect(r.info.imports.every((i) => /^(redpanda_transform|wasi_snapshot_preview1)\./.test(i))).toBe(
        true,
      );
      expect(r.info.sizeBytes).toBeLessThanOrEqual(64 * 1024);
    }
  }, 120_000);
});
