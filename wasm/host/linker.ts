// The import set the broker's linker defines (docs/abi.md §1 "Link-time", §3, §7, §8), with Wasm signatures.
// Anything else fails instantiation, as wasmtime_linker_instantiate_pre does in the broker.
import type { FuncType, ModuleInfo, ValType } from './module-info.ts';

type Sig = readonly [params: string, results: string];

const I = 'i32';
function sig(params: string, results = 'i'): Sig {
  return [params, results];
}

/** Signatures written as strings of i (i32) / I (i64) for brevity. */
export const LINKER: Readonly<Record<string, Readonly<Record<string, Sig>>>> = {
  redpanda_transform: {
    check_abi_version_1: sig('', ''),
    check_abi_version_2: sig('', ''),
    read_batch_header: sig('iiiiiiiiii'),
    read_next_record: sig('iiiii'),
    write_record: sig('ii'),
    write_record_with_options: sig('iiii'),
  },
  redpanda_schema_registry: {
    check_abi_version_0: sig('', ''),
    get_schema_definition_len: sig('ii'),
    get_schema_definition: sig('iii'),
    get_subject_schema_len: sig('iiii'),
    get_subject_schema: sig('iiiii'),
    create_subject_schema: sig('iiiii'),
  },
  wasi_snapshot_preview1: {
    args_get: sig('ii'),
    args_sizes_get: sig('ii'),
    environ_get: sig('ii'),
    environ_sizes_get: sig('ii'),
    clock_res_get: sig('ii'),
    clock_time_get: sig('iIi'),
    fd_advise: sig('iIIi'),
    fd_allocate: sig('iII'),
    fd_close: sig('i'),
    fd_datasync: sig('i'),
    fd_fdstat_get: sig('ii'),
    fd_fdstat_set_flags: sig('ii'),
    fd_fdstat_set_rights: sig('iII'),
    fd_filestat_get: sig('ii'),
    fd_filestat_set_size: sig('iI'),
    fd_filestat_set_times: sig('iIIi'),
    fd_pread: sig('iiiIi'),
    fd_prestat_get: sig('ii'),
    fd_prestat_dir_name: sig('iii'),
    fd_pwrite: sig('iiiIi'),
    fd_read: sig('iiii'),
    fd_readdir: sig('iiiIi'),
    fd_renumber: sig('ii'),
    fd_seek: sig('iIii'),
    fd_sync: sig('i'),
    fd_tell: sig('ii'),
    fd_write: sig('iiii'),
    path_create_directory: sig('iii'),
    path_filestat_get: sig('iiiii'),
    path_filestat_set_times: sig('iiiiIIi'),
    path_link: sig('iiiiiii'),
    path_open: sig('iiiiiIIii'),
    path_readlink: sig('iiiiii'),
    path_remove_directory: sig('iii'),
    path_rename: sig('iiiiii'),
    path_symlink: sig('iiiii'),
    path_unlink_file: sig('iii'),
    poll_oneoff: sig('iiii'),
    proc_exit: sig('i', ''),
    proc_raise: sig('i'),
    sched_yield: sig(''),
    random_get: sig('ii'),
    sock_accept: sig('iii'),
    sock_recv: sig('iiiiii'),
    sock_send: sig('iiiii'),
    sock_shutdown: sig('ii'),
  },
};

function expand(s: string): ValType[] {
  return Array.from(s, (c) => (c === 'I' ? 'i64' : I));
}

function sameTypes(a: ValType[], b: ValType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function describe(t: FuncType): string {
  return `(${t.params.join(', ')}) -> (${t.results.join(', ')})`;
}

/**
 * Reasons the broker would refuse to link or run this module; empty when it links. Checks the import set
 * (§1), `_start: () -> ()` and the `memory` export (§0, §1), a 32-bit memory (§0).
 */
export function linkProblems(info: ModuleInfo): string[] {
  const problems: string[] = [];
  for (const imp of info.imports) {
    const mod = LINKER[imp.module];
    if (mod === undefined) {
      problems.push(
        `unknown import: ${imp.module}::${imp.name} (the linker defines only ${Object.keys(LINKER).join(', ')})`,
      );
      continue;
    }
    const want = mod[imp.name];
    if (want === undefined || imp.kind !== 'function' || imp.type === undefined) {
      problems.push(`unknown import: ${imp.module}::${imp.name} has not been defined`);
      continue;
    }
    const expected: FuncType = { params: expand(want[0]), results: expand(want[1]) };
    if (!sameTypes(expected.params, imp.type.params) || !sameTypes(expected.results, imp.type.results)) {
      problems.push(
        `incompatible import type for ${imp.module}::${imp.name}: expected ${describe(expected)}, got ${describe(imp.type)}`,
      );
    }
  }
  const start = info.exports.find((e) => e.name === '_start');
  const startType = start?.kind === 'function' ? info.functionTypes[start.index] : undefined;
  if (startType === undefined || startType.params.length > 0 || startType.results.length > 0) {
    problems.push('invalid module: missing _start function');
  }
  const memories = info.exports.filter((e) => e.kind === 'memory');
  if (!memories.some((e) => e.name === 'memory')) problems.push('missing memory export named "memory"');
  if (memories.some((e) => e.name !== 'memory')) problems.push('invalid memory export name');
  if (info.memories.some((m) => m.memory64)) problems.push('64-bit memories are not supported');
  return problems;
}
