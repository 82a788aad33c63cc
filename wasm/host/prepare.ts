// Turns the module given to the host into the compiled module every instance of it runs: refuses what the
// broker's linker would refuse (docs/abi.md §1), and sets the memory maximum to the per-transform limit (§10).
import { FerryWasmError } from './errors.ts';
import { LINKER, linkProblems } from './linker.ts';
import { readModuleInfo, withMemoryMax } from './module-info.ts';

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
      problems.push(`unknown import: ${imp.module}::${imp.name} has not been defined`);
    }
  }
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    problems.push('invalid module: missing _start function');
  }
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
    problems.push('missing memory export named "memory"');
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
  let info: ReturnType<typeof readModuleInfo>;
  try {
    info = readModuleInfo(module);
  } catch (error) {
    throw linkError([`invalid module: ${(error as Error).message}`], error);
  }
  const problems = linkProblems(info);
  const limitPages = Math.floor(memoryLimitBytes / PAGE);
  for (const m of info.memories) {
    // The broker hands the declared maximum (pages) to a heap allocator that compares it with bytes, so a
    // module declaring any maximum fails to instantiate (docs/abi.md §10, [inferred]).
    if (m.max !== null) {
      problems.push(
        'unable to allocate memory within requested bounds: the module declares a memory maximum',
      );
    }
    if (m.min > limitPages) {
      problems.push(
        `unable to allocate memory within requested bounds: ${m.min} initial pages > limit ${limitPages} pages`,
      );
    }
  }
  if (problems.length > 0) throw linkError(problems);
  try {
    return await WebAssembly.compile(withMemoryMax(module, info, limitPages) as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw linkError([`invalid module: ${(error as Error).message}`], error);
  }
}
