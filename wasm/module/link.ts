// Whether a module links and starts in the broker: the import set (imports.ts), `_start: () -> ()`, the
// memory exported as `memory`, one 32-bit unshared memory without a declared maximum that starts within
// the per-transform limit, at most one table (docs/abi.md §0, §1, §10). The host refuses exactly what
// this refuses, and `ferry transform check` refuses it too (plus the deploy-only checks of
// wasm/build/check.ts), so "passes the check" and "links in the host" cannot disagree.
import { describeType, importProblems } from './imports.ts';
import { functionType, type Limits, type ModuleInfo } from './reader.ts';

const PAGE = 65_536;
/** One table of at most 128 KiB / 8 elements (docs/abi.md §10). */
export const MAX_TABLE_ELEMENTS = 16_384;
/** data_transforms_per_function_memory_limit default (docs/abi.md §10). */
export const DEFAULT_MEMORY_LIMIT_BYTES = 2 * 1024 * 1024;

export interface LinkOptions {
  /** data_transforms_per_function_memory_limit: the initial memory must fit. Default 2 MiB. */
  readonly memoryLimitBytes?: number;
}

function exportProblems(info: ModuleInfo, problems: string[]): void {
  const start = info.exports.find((e) => e.name === '_start' && e.kind === 'function');
  if (start === undefined) {
    problems.push('invalid module: missing _start function');
  } else {
    const t = functionType(info, start.index);
    if (t === undefined || t.params.length !== 0 || t.results.length !== 0) {
      problems.push(
        `invalid module: missing _start function (_start has type ${describeType(t)}, want () -> ())`,
      );
    }
  }
  const memoryExports = info.exports.filter((e) => e.kind === 'memory');
  if (!memoryExports.some((e) => e.name === 'memory')) {
    problems.push('the module must export its memory as "memory"');
  }
  for (const e of memoryExports) {
    if (e.name !== 'memory') problems.push(`invalid memory export name "${e.name}"`);
  }
}

/** The module's memories and tables, imported ones first. */
function limitsOf(info: ModuleInfo, kind: 'memory' | 'table', defined: readonly Limits[]): Limits[] {
  return [...info.imports.flatMap((i) => (i.kind === kind && i.limits ? [i.limits] : [])), ...defined];
}

function memoryProblems(info: ModuleInfo, memoryLimitBytes: number, problems: string[]): void {
  const memories = limitsOf(info, 'memory', info.memories);
  if (memories.length > 1) problems.push(`the module has ${memories.length} memories; the broker allows one`);
  const mem = memories[0];
  if (mem === undefined) return;
  if (mem.memory64) problems.push('the memory is 64-bit; the broker runs wasm32 modules only');
  if (mem.shared) problems.push('the memory is shared; the broker does not enable threads');
  if (mem.max !== null) {
    problems.push(
      `the memory declares a maximum (${mem.max} pages): the broker's heap allocator compares it with its heap ` +
        'size and fails with "unable to allocate memory within requested bounds" (docs/abi.md §10); ' +
        'build without --maximumMemory',
    );
  }
  if (mem.min * BigInt(PAGE) > BigInt(memoryLimitBytes)) {
    problems.push(
      `unable to allocate memory within requested bounds: the initial memory (${mem.min} pages) is over ` +
        `the per-transform memory limit of ${memoryLimitBytes} bytes (${Math.floor(memoryLimitBytes / PAGE)} pages)`,
    );
  }
}

function tableProblems(info: ModuleInfo, problems: string[]): void {
  const tables = limitsOf(info, 'table', info.tables);
  if (tables.length > 1) problems.push(`the module has ${tables.length} tables; the broker allows one`);
  for (const t of tables) {
    if (t.min > BigInt(MAX_TABLE_ELEMENTS)) {
      problems.push(`a table starts with ${t.min} elements; the broker allows ${MAX_TABLE_ELEMENTS}`);
    }
  }
}

/** Reasons the broker would refuse to link or start this module; empty when it links. */
export function linkProblems(info: ModuleInfo, options: LinkOptions = {}): string[] {
  const { memoryLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES } = options;
  if (info.version !== 1) return [`Wasm binary version ${info.version}; the broker parses version 1 only`];
  const problems = importProblems(info);
  exportProblems(info, problems);
  memoryProblems(info, memoryLimitBytes, problems);
  tableProblems(info, problems);
  return problems;
}
