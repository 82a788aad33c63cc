// What the broker links and accepts (docs/abi.md §1, §3, §7, §8): the three host modules, their function
// names and, for the Redpanda modules, their signatures.

const I32 = 'i32';
const sig = (params: number, results: number) => ({
  params: Array<string>(params).fill(I32),
  results: Array<string>(results).fill(I32),
});

export interface Signature {
  readonly params: readonly string[];
  readonly results: readonly string[];
}

/** redpanda_transform, ABI v1 and v2. */
export const TRANSFORM_FUNCTIONS: Readonly<Record<string, Signature>> = {
  check_abi_version_1: sig(0, 0),
  check_abi_version_2: sig(0, 0),
  read_batch_header: sig(10, 1),
  read_next_record: sig(5, 1),
  write_record: sig(2, 1),
  write_record_with_options: sig(4, 1),
};

/** redpanda_schema_registry (SR ABI v0). */
export const SCHEMA_REGISTRY_FUNCTIONS: Readonly<Record<string, Signature>> = {
  check_abi_version_0: sig(0, 0),
  get_schema_definition_len: sig(2, 1),
  get_schema_definition: sig(3, 1),
  get_subject_schema_len: sig(4, 1),
  get_subject_schema: sig(5, 1),
  create_subject_schema: sig(5, 1),
};

/**
 * wasi_snapshot_preview1 functions the broker registers (`register_wasi_module`). Signatures are
 * not checked here: wasi-libc, TinyGo and Rust declare them slightly differently and all link.
 */
export const WASI_FUNCTIONS: ReadonlySet<string> = new Set([
  'args_get',
  'args_sizes_get',
  'environ_get',
  'environ_sizes_get',
  'clock_res_get',
  'clock_time_get',
  'fd_advise',
  'fd_allocate',
  'fd_close',
  'fd_datasync',
  'fd_fdstat_get',
  'fd_fdstat_set_flags',
  'fd_fdstat_set_rights',
  'fd_filestat_get',
  'fd_filestat_set_size',
  'fd_filestat_set_times',
  'fd_pread',
  'fd_prestat_get',
  'fd_prestat_dir_name',
  'fd_pwrite',
  'fd_read',
  'fd_readdir',
  'fd_renumber',
  'fd_seek',
  'fd_sync',
  'fd_tell',
  'fd_write',
  'path_create_directory',
  'path_filestat_get',
  'path_filestat_set_times',
  'path_link',
  'path_open',
  'path_readlink',
  'path_remove_directory',
  'path_rename',
  'path_symlink',
  'path_unlink_file',
  'poll_oneoff',
  'proc_exit',
  'proc_raise',
  'sched_yield',
  'random_get',
  'sock_accept',
  'sock_recv',
  'sock_send',
  'sock_shutdown',
]);

export const TRANSFORM_MODULE = 'redpanda_transform';
export const SCHEMA_REGISTRY_MODULE = 'redpanda_schema_registry';
export const WASI_MODULE = 'wasi_snapshot_preview1';

/** data_transforms_binary_max_size default (docs/abi.md §1.6). */
export const DEFAULT_BINARY_MAX_BYTES = 10 * 1024 * 1024;
/** Parser caps (docs/abi.md §1.5). */
export const MAX_PARAMS = 128;
export const MAX_RESULTS = 64;
/** One table of at most 128 KiB / 8 elements (docs/abi.md §10). */
export const MAX_TABLE_ELEMENTS = 16_384;
