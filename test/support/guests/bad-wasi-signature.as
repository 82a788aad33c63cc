// A guest that imports WASI's fd_write with the wrong signature, (i32, i32, i32) -> i32 instead of
// (i32, i32, i32, i32) -> i32. The broker's linker defines every WASI function with its one signature,
// so this module does not link there; `ferry transform check` once checked WASI names only and passed
// it (test/unit/wasm-contract.test.ts). Otherwise it is a valid pass-through transform.

@external("redpanda_transform", "check_abi_version_2")
declare function check_abi(): void;
@external("redpanda_transform", "read_batch_header")
declare function read_batch_header(base: usize, count: usize, epoch: usize, attrs: usize, lod: usize, bts: usize, mts: usize, pid: usize, pep: usize, bseq: usize): i32;
@external("redpanda_transform", "read_next_record")
declare function read_next_record(attrs: usize, ts: usize, off: usize, buf: usize, len: u32): i32;
@external("redpanda_transform", "write_record")
declare function write_record(buf: usize, len: u32): i32;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: i32, iovs: usize, n: i32): i32;

export function guestAbort(msg: usize, file: usize, line: u32, col: u32): void {
  unreachable();
}

const HDR = memory.data(64);
const META = memory.data(32);
const BUF_CAP: i32 = 1 << 16;
const BUF = memory.data(BUF_CAP);

export function _start(): void {
  check_abi();
  fd_write(1, 0, 0);
  while (true) {
    read_batch_header(HDR, HDR + 8, HDR + 12, HDR + 16, HDR + 20, HDR + 24, HDR + 32, HDR + 40, HDR + 48, HDR + 52);
    const count = load<i32>(HDR + 8);
    for (let i = 0; i < count; i++) {
      const n = read_next_record(META, META + 8, META + 16, BUF, BUF_CAP);
      if (n >= 0) write_record(BUF, n);
    }
  }
}
