// The broker's deploy-time checks (docs/abi.md §1, §10), applied to a module before it ships: a module
// this accepts links and starts in Redpanda; one it refuses would be refused there, and every
// reason says why. The link rule (imports with their signatures, exports, memory, tables) is the
// host's own (wasm/module/link.ts); this file adds what the broker checks only at deploy: the binary
// size, the ABI check import, and the limits of the broker's Wasm parser. Pure: bytes in, verdict out.
import {
  DEFAULT_MEMORY_LIMIT_BYTES,
  isWasmFormatError,
  linkProblems,
  type ModuleInfo,
  readModuleInfo,
  SCHEMA_REGISTRY_MODULE,
  TRANSFORM_MODULE,
} from '../module/index.ts';
import { CONST_OPS, SECTION_NAMES, SECTION_ORDER } from '../module/reader.ts';

/** data_transforms_binary_max_size default (docs/abi.md §1.6). */
export const DEFAULT_BINARY_MAX_BYTES = 10 * 1024 * 1024;
/** Parser caps (docs/abi.md §1.5). */
export const MAX_PARAMS = 128;
export const MAX_RESULTS = 64;

/** What `ferry transform check` reports about a module it accepts. */
export interface ModuleSummary {
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
  | { readonly ok: true; readonly info: ModuleSummary }
  | { readonly ok: false; readonly reasons: readonly string[] };

export interface CheckOptions {
  /** data_transforms_binary_max_size (default 10 MiB). */
  readonly binaryMaxBytes?: number;
  /** data_transforms_per_function_memory_limit (default 2 MiB): the initial memory must fit. */
  readonly memoryLimitBytes?: number;
}

function checkSectionOrder(m: ModuleInfo, reasons: string[]): void {
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

/** The ABI version the module declares through its check_abi_version_N import; 0 when none. */
function abiVersion(m: ModuleInfo): 0 | 1 | 2 {
  const names = new Set(
    m.imports.filter((i) => i.module === TRANSFORM_MODULE && i.kind === 'function').map((i) => i.name),
  );
  return names.has('check_abi_version_2') ? 2 : names.has('check_abi_version_1') ? 1 : 0;
}

function checkLimits(m: ModuleInfo, reasons: string[]): void {
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
}

/** Applies the broker's deploy-time checks (and its link rule) to a module's bytes. */
export function checkModule(bytes: Uint8Array, options: CheckOptions = {}): CheckResult {
  const { binaryMaxBytes = DEFAULT_BINARY_MAX_BYTES, memoryLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES } =
    options;
  const reasons: string[] = [];
  if (bytes.length > binaryMaxBytes) {
    reasons.push(`the module is ${bytes.length} bytes; data_transforms_binary_max_size is ${binaryMaxBytes}`);
  }
  let m: ModuleInfo;
  try {
    m = readModuleInfo(bytes);
  } catch (e) {
    if (isWasmFormatError(e))
      return { ok: false, reasons: [...reasons, `not a valid Wasm module: ${e.message}`] };
    throw e;
  }
  if (m.version !== 1) return { ok: false, reasons: [...reasons, ...linkProblems(m)] };
  checkSectionOrder(m, reasons);
  reasons.push(...linkProblems(m, { memoryLimitBytes }));
  const abi = abiVersion(m);
  if (abi === 0)
    reasons.push(
      'missing transform sdk ABI check function (import redpanda_transform.check_abi_version_1 or _2)',
    );
  checkLimits(m, reasons);
  if (reasons.length > 0 || abi === 0) return { ok: false, reasons };
  const mem = m.memories[0] ?? m.imports.find((i) => i.kind === 'memory')?.limits;
  return {
    ok: true,
    info: {
      sizeBytes: bytes.length,
      abiVersion: abi,
      imports: m.imports.map((i) => `${i.module}.${i.name}`),
      exports: m.exports.map((e) => e.name),
      memory: {
        minPages: Number(mem?.min ?? 0n),
        maxPages: mem === undefined || mem.max === null ? null : Number(mem.max),
      },
      usesSchemaRegistry: m.imports.some((i) => i.module === SCHEMA_REGISTRY_MODULE),
      hasStartSection: m.startFunction !== null,
    },
  };
}
