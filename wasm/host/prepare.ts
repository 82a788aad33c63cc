// Turns the module given to the host into the compiled module every instance of it runs: refuses what the
// broker's linker would refuse, by the one link rule `ferry transform check` applies too
// (wasm/module/link.ts, docs/abi.md §1), and sets the memory maximum to the per-transform limit (§10).
import {
  isWasmFormatError,
  LINKER,
  linkProblems,
  type ModuleInfo,
  readModuleInfo,
  withMemoryMax,
} from '../module/index.ts';
import { FerryWasmError } from './errors.ts';

const PAGE = 65536;

function linkError(problems: string[], cause?: unknown): FerryWasmError {
  return new FerryWasmError({
    code: 'FERRY_WASM_LINK',
    message: `module refused: ${problems.join('; ')}`,
    retryable: false,
    cause,
  });
}

/** Name-level checks when only a compiled module is given (no signatures without the bytes). */
function moduleProblems(module: WebAssembly.Module): string[] {
  const problems: string[] = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function' || LINKER[imp.module]?.[imp.name] === undefined) {
      problems.push(`import ${imp.module}.${imp.name}: not a function the broker's linker defines`);
    }
  }
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    problems.push('invalid module: missing _start function');
  }
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
    problems.push('the module must export its memory as "memory"');
  }
  return problems;
}

export async function prepareModule(
  module: Uint8Array | WebAssembly.Module,
  memoryLimitBytes: number,
): Promise<WebAssembly.Module> {
  if (module instanceof WebAssembly.Module) {
    const problems = moduleProblems(module);
    if (problems.length > 0) throw linkError(problems);
    return module;
  }
  let info: ModuleInfo;
  try {
    info = readModuleInfo(module);
  } catch (error) {
    const message = isWasmFormatError(error) ? error.message : (error as Error).message;
    throw linkError([`invalid module: ${message}`], error);
  }
  const problems = linkProblems(info, { memoryLimitBytes });
  if (problems.length > 0) throw linkError(problems);
  try {
    const limitPages = Math.floor(memoryLimitBytes / PAGE);
    return await WebAssembly.compile(withMemoryMax(module, info, limitPages) as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw linkError([`invalid module: ${(error as Error).message}`], error);
  }
}
