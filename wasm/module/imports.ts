// The import set the broker's linker defines (docs/abi.md §1 "Link-time", §3, §7, §8), every function
// with its Wasm signature, the WASI ones included. This one table serves `ferry transform check`
// (wasm/build/check.ts), the host's linker (wasm/host/prepare.ts) and the host's WASI stubs
// (wasm/host/wasi.ts). Anything else fails instantiation, as wasmtime_linker_instantiate_pre does in
// the broker.
import type { FuncType, ModuleImport, ModuleInfo, ValType } from './reader.ts';

export const TRANSFORM_MODULE = 'redpanda_transform';
export const SCHEMA_REGISTRY_MODULE = 'redpanda_schema_registry';
export const WASI_MODULE = 'wasi_snapshot_preview1';

type Sig = readonly [params: string, results: string];

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
  return Array.from(s, (c) => (c === 'I' ? 'i64' : 'i32'));
}

/** The signature the broker defines for `module.name`, or undefined when it defines no such function. */
export function linkedSignature(module: string, name: string): FuncType | undefined {
  const want = LINKER[module]?.[name];
  return want === undefined ? undefined : { params: expand(want[0]), results: expand(want[1]) };
}

function sameTypes(a: readonly ValType[], b: readonly ValType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

export function describeType(t: FuncType | undefined): string {
  return t === undefined ? 'an unknown type' : `(${t.params.join(', ')}) -> (${t.results.join(', ')})`;
}

/** Why the broker's linker would not satisfy this import; undefined when it does. */
function importProblem(imp: ModuleImport): string | undefined {
  const where = `import ${imp.module}.${imp.name}`;
  if (imp.kind !== 'function')
    return `${where}: imports a ${imp.kind}; the broker's linker defines only functions`;
  if (LINKER[imp.module] === undefined) {
    return (
      `${where}: module "${imp.module}" is not linked by the broker (only ${Object.keys(LINKER).join(', ')})` +
      (imp.module === 'env' ? '; for AssemblyScript build with --use abort=... and no trace/seed' : '')
    );
  }
  if (
    imp.module === SCHEMA_REGISTRY_MODULE &&
    imp.name.startsWith('check_abi_version_') &&
    imp.name !== 'check_abi_version_0'
  ) {
    return `${where}: the schema registry ABI check must be check_abi_version_0`;
  }
  const want = linkedSignature(imp.module, imp.name);
  if (want === undefined) {
    if (imp.module === WASI_MODULE) return `${where}: not a WASI function the broker defines`;
    return `${where}: not a function the broker defines${imp.module === TRANSFORM_MODULE ? ' (ABI v1/v2)' : ''}`;
  }
  const got = imp.type;
  if (got === undefined || !sameTypes(want.params, got.params) || !sameTypes(want.results, got.results)) {
    return `${where}: has signature ${describeType(got)}, the broker defines ${describeType(want)}`;
  }
  return undefined;
}

/** Every import the broker's linker would not satisfy, with the reason (docs/abi.md §1). */
export function importProblems(info: ModuleInfo): string[] {
  const problems: string[] = [];
  for (const imp of info.imports) {
    const problem = importProblem(imp);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}
