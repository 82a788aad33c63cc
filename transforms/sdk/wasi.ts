// Logs to fd 1/2 (info/warn in the broker's transform logs), the environment, and exit, over the
// WASI imports in wasi_snapshot_preview1.ts.
import { environ_get, environ_sizes_get, fd_write, proc_exit } from './wasi_snapshot_preview1';

/** Writes raw bytes to fd 1 (info log in the broker) or fd 2 (warn). Errors are ignored. */
export function writeFd(fd: u32, ptr: usize, len: u32): void {
  const iov = memory.data(16);
  store<u32>(iov, <u32>ptr);
  store<u32>(iov, len, 4);
  fd_write(fd, iov, 1, iov + 8);
}

/** Writes a string as one UTF-8 log line (a newline is appended). */
export function log(fd: u32, message: string): void {
  const bytes = String.UTF8.encode(message + '\n');
  writeFd(fd, changetype<usize>(bytes), <u32>bytes.byteLength);
}

export function exit(code: u32): void {
  proc_exit(code);
}

/** Reads the whole environment as `KEY=VALUE` strings (docs/abi.md §9). Empty on any WASI error. */
export function readEnviron(): string[] {
  const out: string[] = [];
  const sizes = memory.data(8);
  if (environ_sizes_get(sizes, sizes + 4) != 0) return out;
  const count = load<u32>(sizes);
  const size = load<u32>(sizes, 4);
  if (count == 0) return out;
  const ptrs = new ArrayBuffer(<i32>(count * 4));
  const buf = new ArrayBuffer(<i32>size);
  if (environ_get(changetype<usize>(ptrs), changetype<usize>(buf)) != 0) return out;
  const base = changetype<usize>(buf);
  const end = base + size;
  for (let i: u32 = 0; i < count; i++) {
    const start = <usize>load<u32>(changetype<usize>(ptrs) + i * 4);
    if (start < base || start >= end) continue;
    let p = start;
    while (p < end && load<u8>(p) != 0) p++;
    out.push(String.UTF8.decodeUnsafe(start, p - start));
  }
  return out;
}
