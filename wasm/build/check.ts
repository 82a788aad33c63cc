// The broker's deploy-time checks (docs/abi.md §1, §10), applied to a module before it ships: a module
// this accepts links and starts in Redpanda; one it refuses would be refused there, and every
// reason says why. Pure: bytes in, verdict out.
import {
  DEFAULT_BINARY_MAX_BYTES,
  MAX_PARAMS,
  MAX_RESULTS,
  MAX_TABLE_ELEMENTS,
  SCHEMA_REGISTRY_FUNCTIONS,
  SCHEMA_REGISTRY_MODULE,
  type Signature,
  TRANSFORM_FUNCTIONS,
  TRANSFORM_MODULE,
  WASI_FUNCTIONS,
  WASI_MODULE,
} from './rules.ts';
import {
  CONST_OPS,
  type FuncType,
  isWasmFormatError,
  type Limits,
  readWasmModule,
  SECTION_NAMES,
  SECTION_ORDER,
  type WasmModule,
} from './wasm-reader.ts';

export interface ModuleInfo {
  readonly sizeBytes: number;
  /** 1 or 2: which check_abi_version_N the module imports (the highest, if both). */
  readonly abiVersion: 1 | 2;
  readonly imports: readonly string[];
  readonly exports: readonly string[];
  readonly memory: { readonly minPages: number; readonly maxPages: number | null };
  readonly usesSchemaRegistry: boolean;
  readonly hasStartSection: boolean;
}

export type CheckResult =
  | { readonly ok: true; readonly info: ModuleInfo }
  | { readonly ok: false; readonly reasons: readonly string[] };

export interface CheckOptions {
  /** data_transforms_binary_max_size (default 10 MiB). */
  readonly binaryMaxBytes?: number;
  /** data_transforms_per_function_memory_limit (default 2 MiB): the initial memory must fit. */
  readonly memoryLimitBytes?: number;
}

const PAGE = 65_536;

const sameSignature = (t: FuncType | undefined, s: Signature) =>
  t !== undefined &&
  t.params.length === s.params.length &&
  t.results.length === s.results.length &&
  t.params.every((p, i) => p === s.params[i]) &&
  t.results.every((r, i) => r === s.results[i]);

const describe = (t: FuncType | undefined) =>
  t === undefined ? 'an unknown type' : `(${t.params.join(', ')}) -> (${t.results.join(', ')})`;

function checkSectionOrder(m: WasmModule, reasons: string[]): void {
  let last = -1;
  for (const id of m.sectionIds) {
    if (id === 0) continue;
    const rank = SECTION_ORDER.indexOf(id);
    if (rank < 0) {
      reasons.push(`unknown section id ${id}: the broker's parser accepts only the standard sections`);
      continue;
    }
    if (rank <= last) {
      reasons.push(`section ${SECTION_NAMES[id]} (${id}) is out of order or repeated (docs/abi.md §1.5)`);
    }
    last = rank;
  }
}

function checkImports(m: WasmModule, reasons: string[]): 0 | 1 | 2 {
  let abi: 0 | 1 | 2 = 0;
  for (const imp of m.imports) {
    const where = `import ${imp.module}.${imp.name}`;
    if (imp.kind !== 'func') {
      reasons.push(`${where}: imports a ${imp.kind}; the broker's linker defines only functions`);
      continue;
    }
    const type = imp.typeIndex === undefined ? undefined : m.types[imp.typeIndex];
    if (imp.module === TRANSFORM_MODULE) {
      const want = TRANSFORM_FUNCTIONS[imp.name];
      if (want === undefined) {
        reasons.push(`${where}: not a function the broker defines (ABI v1/v2)`);
      } else if (!sameSignature(type, want)) {
        reasons.push(`${where}: has signature ${describe(type)}, the broker defines ${describe(want)}`);
      } else if (imp.name === 'check_abi_version_2') abi = 2;
      else if (imp.name === 'check_abi_version_1' && abi === 0) abi = 1;
    } else if (imp.module === SCHEMA_REGISTRY_MODULE) {
      const want = SCHEMA_REGISTRY_FUNCTIONS[imp.name];
      if (imp.name.startsWith('check_abi_version_') && imp.name !== 'check_abi_version_0') {
        reasons.push(`${where}: the schema registry ABI check must be check_abi_version_0`);
      } else if (want === undefined) {
        reasons.push(`${where}: not a function the broker defines`);
      } else if (!sameSignature(type, want)) {
        reasons.push(`${where}: has signature ${describe(type)}, the broker defines ${describe(want)}`);
      }
    } else if (imp.module === WASI_MODULE) {
      if (!WASI_FUNCTIONS.has(imp.name)) reasons.push(`${where}: not a WASI function the broker defines`);
    } else {
      reasons.push(
        `${where}: module "${imp.module}" is not linked by the broker (only ${TRANSFORM_MODULE}, ${SCHEMA_REGISTRY_MODULE}, ${WASI_MODULE})` +
          (imp.module === 'env' ? '; for AssemblyScript build with --use abort=... and no trace/seed' : ''),
      );
    }
  }
  if (abi === 0)
    reasons.push(
      'missing transform sdk ABI check function (import redpanda_transform.check_abi_version_1 or _2)',
    );
  return abi;
}

function functionType(m: WasmModule, index: number): FuncType | undefined {
  const imported = m.imports.filter((i) => i.kind === 'func');
  if (index < imported.length) {
    const t = imported[index]!.typeIndex;
    return t === undefined ? undefined : m.types[t];
  }
  const local = m.functions[index - imported.length];
  return local === undefined ? undefined : m.types[local];
}

function checkExports(m: WasmModule, reasons: string[]): Limits | null {
  const start = m.exports.find((e) => e.name === '_start' && e.kind === 'func');
  if (start === undefined) {
    reasons.push('invalid module: missing _start function');
  } else {
    const t = functionType(m, start.index);
    if (t === undefined || t.params.length !== 0 || t.results.length !== 0) {
      reasons.push(`invalid module: missing _start function (_start has type ${describe(t)}, want () -> ())`);
    }
  }
  const memoryExports = m.exports.filter((e) => e.kind === 'memory');
  if (!memoryExports.some((e) => e.name === 'memory'))
    reasons.push('the module must export its memory as "memory"');
  for (const e of memoryExports) {
    if (e.name !== 'memory') reasons.push(`invalid memory export name "${e.name}"`);
  }
  const memories = [
    ...m.imports.flatMap((i) => (i.limits && i.kind === 'memory' ? [i.limits] : [])),
    ...m.memories,
  ];
  if (memories.length > 1) reasons.push(`the module has ${memories.length} memories; the broker allows one`);
  return memories[0] ?? null;
}

function checkMemory(mem: Limits | null, memoryLimitBytes: number, reasons: string[]): void {
  if (mem === null) return;
  if (mem.memory64) reasons.push('the memory is 64-bit; the broker runs wasm32 modules only');
  if (mem.shared) reasons.push('the memory is shared; the broker does not enable threads');
  if (mem.max !== null) {
    reasons.push(
      `the memory declares a maximum (${mem.max} pages): the broker's heap allocator compares it with its heap ` +
        'size and fails with "unable to allocate memory within requested bounds" (docs/abi.md §10); build without --maximumMemory',
    );
  }
  if (mem.min * BigInt(PAGE) > BigInt(memoryLimitBytes)) {
    reasons.push(
      `the initial memory (${mem.min} pages) is over the per-transform memory limit of ${memoryLimitBytes} bytes`,
    );
  }
}

function checkLimits(m: WasmModule, reasons: string[]): void {
  for (const [i, t] of m.types.entries()) {
    if (t.params.length > MAX_PARAMS)
      reasons.push(`type ${i} has ${t.params.length} params; the parser caps them at ${MAX_PARAMS}`);
    if (t.results.length > MAX_RESULTS)
      reasons.push(`type ${i} has ${t.results.length} results; the parser caps them at ${MAX_RESULTS}`);
    // The broker's parser (parse_val_type) knows i32, i64, f32, f64, funcref and externref only. It
    // skips code bodies, so SIMD inside functions deploys; a v128 in a signature does not.
    if ([...t.params, ...t.results].includes('v128'))
      reasons.push(`type ${i} has a v128 param or result; the broker's parser knows no v128 value type`);
  }
  for (const name of m.longNames) reasons.push(`${name}: names are capped at 512 bytes`);
  for (const [i, g] of m.globals.entries()) {
    const bad = g.initOps.find((op) => !CONST_OPS.has(op));
    if (bad !== undefined || g.initOps.length !== 1) {
      reasons.push(
        `global ${i}: initialiser must be one global.get, *.const or ref.null (found opcode 0x${(bad ?? 0).toString(16)})`,
      );
    }
  }
  const tables = [
    ...m.imports.flatMap((i) => (i.limits && i.kind === 'table' ? [i.limits] : [])),
    ...m.tables,
  ];
  if (tables.length > 1) reasons.push(`the module has ${tables.length} tables; the broker allows one`);
  for (const t of tables) {
    if (t.min > BigInt(MAX_TABLE_ELEMENTS))
      reasons.push(`a table starts with ${t.min} elements; the broker allows ${MAX_TABLE_ELEMENTS}`);
  }
}

/** Applies the broker's deploy-time checks to a module's bytes. */
export function checkModule(bytes: Uint8Array, options: CheckOptions = {}): CheckResult {
  const { binaryMaxBytes = DEFAULT_BINARY_MAX_BYTES, memoryLimitBytes = 2 * 1024 * 1024 } = options;
  const reasons: string[] = [];
  if (bytes.length > binaryMaxBytes) {
    reasons.push(`the module is ${bytes.length} bytes; data_transforms_binary_max_size is ${binaryMaxBytes}`);
  }
  let m: WasmModule;
  try {
    m = readWasmModule(bytes);
  } catch (e) {
    if (isWasmFormatError(e))
      return { ok: false, reasons: [...reasons, `not a valid Wasm module: ${e.message}`] };
    throw e;
  }
  if (m.version !== 1)
    return {
      ok: false,
      reasons: [...reasons, `Wasm binary version ${m.version}; the broker parses version 1 only`],
    };
  checkSectionOrder(m, reasons);
  const abi = checkImports(m, reasons);
  const mem = checkExports(m, reasons);
  checkMemory(mem, memoryLimitBytes, reasons);
  checkLimits(m, reasons);
  if (reasons.length > 0 || abi === 0) return { ok: false, reasons };
  return {
    ok: true,
    info: {
      sizeBytes: bytes.length,
      abiVersion: abi,
      imports: m.imports.map((i) => `${i.module}.${i.name}`),
      exports: m.exports.map((e) => e.name),
      memory: {
        minPages: Number(mem?.min ?? 0n),
        maxPages: mem?.max === null || mem === null ? null : Number(mem.max),
      },
      usesSchemaRegistry: m.imports.some((i) => i.module === SCHEMA_REGISTRY_MODULE),
      hasStartSection: m.startFunction !== null,
    },
  };
}
