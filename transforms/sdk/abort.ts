// AssemblyScript's `abort` replaced (build flag `--use abort=sdk/abort/wasiAbort`) so modules import
// nothing from `env`: the broker links only redpanda_transform, redpanda_schema_registry and
// wasi_snapshot_preview1 (docs/abi.md §1). The message goes to fd 2 (warn level in the transform logs),
// then proc_exit traps the VM, which is what the broker does with any failure (docs/abi.md §11).
// Transforms route bad input instead of aborting; this runs only on a real bug or out of memory,
// so it allocates nothing: it copies characters into a static buffer (non-ASCII becomes '?').
import { exit, writeFd } from './wasi';

const LINE_MAX: i32 = 512;

function put(buf: usize, at: i32, s: string | null): i32 {
  if (s === null) return at;
  const n = s.length;
  for (let i = 0; i < n && at < LINE_MAX - 1; i++) {
    const c = s.charCodeAt(i);
    store<u8>(buf + at++, c < 0x80 && c >= 0x20 ? <u8>c : 0x3f);
  }
  return at;
}

function putU32(buf: usize, at: i32, v: u32): i32 {
  const digits = memory.data(10);
  let n = 0;
  do {
    store<u8>(digits + n++, <u8>(0x30 + (v % 10)));
    v /= 10;
  } while (v != 0);
  while (n > 0 && at < LINE_MAX - 1) store<u8>(buf + at++, load<u8>(digits + --n));
  return at;
}

export function wasiAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const buf = memory.data(LINE_MAX);
  let at = put(buf, 0, 'abort: ');
  at = put(buf, at, message);
  at = put(buf, at, ' at ');
  at = put(buf, at, fileName);
  at = put(buf, at, ':');
  at = putU32(buf, at, line);
  at = put(buf, at, ':');
  at = putU32(buf, at, column);
  store<u8>(buf + at++, 0x0a);
  writeFd(2, buf, <u32>at);
  exit(255);
  unreachable();
}
