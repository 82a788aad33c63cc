// A host-conformance probe guest (AssemblyScript, compiled by test/support/probe-module.ts).
// Each input record's value is a command; the guest answers with records whose value is text.
// It imports the ABI by hand (no SDK) so every call and return code is visible to the tests.

@external("redpanda_transform", "check_abi_version_2")
declare function check_abi(): void;
@external("redpanda_transform", "read_batch_header")
declare function read_batch_header(base: usize, count: usize, epoch: usize, attrs: usize, lod: usize, bts: usize, mts: usize, pid: usize, pep: usize, bseq: usize): i32;
@external("redpanda_transform", "read_next_record")
declare function read_next_record(attrs: usize, ts: usize, off: usize, buf: usize, len: u32): i32;
@external("redpanda_transform", "write_record")
declare function write_record(buf: usize, len: u32): i32;
@external("redpanda_transform", "write_record_with_options")
declare function write_record_with_options(buf: usize, len: u32, opts: usize, optsLen: u32): i32;
@external("redpanda_schema_registry", "check_abi_version_0")
declare function sr_check(): void;
@external("redpanda_schema_registry", "get_schema_definition_len")
declare function sr_def_len(id: i32, out: usize): i32;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: i32, iovs: usize, n: i32, written: usize): i32;
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: i32, iovs: usize, n: i32, read: usize): i32;
@external("wasi_snapshot_preview1", "environ_sizes_get")
declare function environ_sizes_get(count: usize, size: usize): i32;
@external("wasi_snapshot_preview1", "environ_get")
declare function environ_get(ptrs: usize, buf: usize): i32;
@external("wasi_snapshot_preview1", "args_sizes_get")
declare function args_sizes_get(count: usize, size: usize): i32;
@external("wasi_snapshot_preview1", "args_get")
declare function args_get(ptrs: usize, buf: usize): i32;
@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: i32, precision: i64, out: usize): i32;
@external("wasi_snapshot_preview1", "clock_res_get")
declare function clock_res_get(id: i32, out: usize): i32;
@external("wasi_snapshot_preview1", "random_get")
declare function random_get(buf: usize, len: i32): i32;
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: i32): void;
@external("wasi_snapshot_preview1", "sched_yield")
declare function sched_yield(): i32;
@external("wasi_snapshot_preview1", "poll_oneoff")
declare function poll_oneoff(inp: usize, out: usize, n: i32, nevents: usize): i32;
@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: i32, out: usize): i32;

export function probeAbort(msg: usize, file: usize, line: u32, col: u32): void {
  unreachable();
}

const HDR = memory.data(64);
const META = memory.data(32);
const SCRATCH = memory.data(256);
const BUF_CAP: i32 = 1 << 16;
const BUF = memory.data(BUF_CAP);
let smallNext = false;
let preBatchWrite: i32 = 0;
let preBatchRead: i32 = 0;
let lastHeaderResult: i32 = 0;

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function zz(out: usize, v: i32): usize {
  let u: u32 = <u32>((v << 1) ^ (v >> 31));
  while (u >= 0x80) {
    store<u8>(out++, <u8>((u & 0x7f) | 0x80));
    u >>= 7;
  }
  store<u8>(out++, <u8>u);
  return out;
}

// Builds a payload (key null, value = text, no headers) in a fresh buffer.
function textPayload(text: string): Uint8Array {
  const v = utf8(text);
  const out = new Uint8Array(v.length + 16);
  const base = out.dataStart;
  let p = zz(base, -1);
  p = zz(p, v.length);
  memory.copy(p, v.dataStart, v.length);
  p += v.length;
  p = zz(p, 0);
  return out.subarray(0, <i32>(p - base));
}

function reply(text: string): void {
  const p = textPayload(text);
  write_record(p.dataStart, p.length);
}

function hexDecode(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = <u8>I32.parseInt(s.substr(i * 2, 2), 16);
  return out;
}

function hexEncode(ptr: usize, len: i32): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    const b = load<u8>(ptr + i);
    s += (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}

function cstrings(countFn: (c: usize, s: usize) => i32, getFn: (p: usize, b: usize) => i32): string {
  countFn(SCRATCH, SCRATCH + 4);
  const count = load<u32>(SCRATCH);
  const size = load<u32>(SCRATCH + 4);
  const ptrs = new Uint32Array(count + 1);
  const buf = new Uint8Array(size + 1);
  getFn(ptrs.dataStart, buf.dataStart);
  let s = '';
  for (let i: u32 = 0; i < count; i++) {
    const start = ptrs[i];
    let end = start;
    while (load<u8>(end) != 0) end++;
    if (i > 0) s += '\n';
    s += String.UTF8.decodeUnsafe(start, end - start);
  }
  return s;
}

function getenv(key: string): string {
  const all = cstrings(environ_sizes_get, environ_get).split('\n');
  for (let i = 0; i < all.length; i++) {
    if (all[i].startsWith(key + '=')) return all[i].substr(key.length + 1);
  }
  return '';
}

function readVarint(p: usize, out: usize): usize {
  let u: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    const b = load<u8>(p++);
    u |= (<u64>(b & 0x7f)) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  store<i64>(out, <i64>(u >> 1) ^ -(<i64>(u & 1)));
  return p;
}

// value of the payload at BUF: skip key, return [ptr,len] of value into SCRATCH+16/+24
function valueOf(): string {
  let p = readVarint(BUF, SCRATCH + 16);
  const klen = <i32>load<i64>(SCRATCH + 16);
  if (klen > 0) p += klen;
  p = readVarint(p, SCRATCH + 16);
  const vlen = <i32>load<i64>(SCRATCH + 16);
  if (vlen <= 0) return '';
  return String.UTF8.decodeUnsafe(p, vlen);
}

function log(fd: i32, text: string): i32 {
  const b = utf8(text);
  store<u32>(SCRATCH, <u32>b.dataStart);
  store<u32>(SCRATCH + 4, b.length);
  const rc = fd_write(fd, SCRATCH, 1, SCRATCH + 8);
  return rc;
}

function clockText(): string {
  let s = '';
  for (let id = 0; id < 5; id++) {
    const rc = clock_time_get(id, 0, SCRATCH + 32);
    s += id.toString() + ':' + rc.toString() + ':' + (rc == 0 ? load<u64>(SCRATCH + 32).toString() : '-') + ' ';
  }
  clock_time_get(1, 0, SCRATCH + 32);
  s += 'mono2:' + load<u64>(SCRATCH + 32).toString() + ' ';
  const rr = clock_res_get(0, SCRATCH + 40);
  s += 'res:' + rr.toString() + ':' + load<u64>(SCRATCH + 40).toString() + ' ';
  s += 'res9:' + clock_res_get(9, SCRATCH + 40).toString();
  return s;
}

function handle(cmd: string, size: i32): bool {
  const sp = cmd.indexOf(' ');
  const verb = sp < 0 ? cmd : cmd.substr(0, sp);
  const arg = sp < 0 ? '' : cmd.substr(sp + 1);
  if (verb == 'echo') {
    write_record(BUF, size);
  } else if (verb == 'env') {
    reply(cstrings(environ_sizes_get, environ_get));
  } else if (verb == 'args') {
    reply(cstrings(args_sizes_get, args_get));
  } else if (verb == 'clock') {
    reply(clockText());
  } else if (verb == 'random') {
    random_get(SCRATCH + 48, 8);
    reply(hexEncode(SCRATCH + 48, 8));
  } else if (verb == 'exit') {
    proc_exit(I32.parseInt(arg));
  } else if (verb == 'trap') {
    unreachable();
  } else if (verb == 'loop') {
    let i: i64 = 0;
    while (i >= 0) i++;
  } else if (verb == 'return') {
    return false;
  } else if (verb == 'grow') {
    const before = memory.size();
    const r = memory.grow(I32.parseInt(arg));
    reply(before.toString() + ' ' + r.toString() + ' ' + memory.size().toString());
  } else if (verb == 'log') {
    const a = log(1, 'hello info\n');
    const b = log(2, 'hello warn\n');
    const c = log(3, 'nowhere\n');
    reply(a.toString() + ' ' + b.toString() + ' ' + c.toString() + ' ' + load<u32>(SCRATCH + 8).toString());
  } else if (verb == 'biglog') {
    log(1, 'x'.repeat(3000) + '\n');
  } else if (verb == 'logbytes') {
    // fd_write(1) of raw bytes (hex): invalid UTF-8, control characters, cuts through a character
    const raw = hexDecode(arg);
    store<u32>(SCRATCH, <u32>raw.dataStart);
    store<u32>(SCRATCH + 4, raw.length);
    reply(fd_write(1, SCRATCH, 1, SCRATCH + 8).toString() + ' ' + load<u32>(SCRATCH + 8).toString());
  } else if (verb == 'logiov') {
    // one fd_write(2) with two buffers and two newlines: one log event
    const a = utf8('line one\nline ');
    const b = utf8('two\n');
    store<u32>(SCRATCH, <u32>a.dataStart);
    store<u32>(SCRATCH + 4, a.length);
    store<u32>(SCRATCH + 8, <u32>b.dataStart);
    store<u32>(SCRATCH + 12, b.length);
    reply(fd_write(2, SCRATCH, 2, SCRATCH + 16).toString() + ' ' + load<u32>(SCRATCH + 16).toString());
  } else if (verb == 'write') {
    const p = hexDecode(arg);
    reply(write_record(p.dataStart, p.length).toString());
  } else if (verb == 'opts') {
    const sp2 = arg.indexOf(' ');
    const p = hexDecode(arg.substr(0, sp2));
    const o = hexDecode(arg.substr(sp2 + 1));
    const rc = write_record_with_options(p.dataStart, p.length, o.dataStart, o.length);
    reply(rc.toString());
  } else if (verb == 'to') {
    const t = utf8(arg);
    const o = new Uint8Array(t.length + 6);
    o[0] = 1;
    let q = zz(o.dataStart + 1, t.length);
    memory.copy(q, t.dataStart, t.length);
    q += t.length;
    const p = textPayload('routed');
    reply(write_record_with_options(p.dataStart, p.length, o.dataStart, <u32>(q - o.dataStart)).toString());
  } else if (verb == 'oob') {
    write_record(0xfffffff0, 64);
  } else if (verb == 'oob-read') {
    read_next_record(META, META + 8, META + 16, 0xfffffff0, 64);
  } else if (verb == 'small-next') {
    smallNext = true;
  } else if (verb == 'header') {
    reply(
      load<i64>(HDR).toString() + ' ' + load<i32>(HDR + 8).toString() + ' ' + load<i32>(HDR + 12).toString() + ' ' +
        load<i16>(HDR + 16).toString() + ' ' + load<i32>(HDR + 20).toString() + ' ' + load<i64>(HDR + 24).toString() + ' ' +
        load<i64>(HDR + 32).toString() + ' ' + load<i64>(HDR + 40).toString() + ' ' + load<i16>(HDR + 48).toString() + ' ' +
        load<i32>(HDR + 52).toString() + ' ' + lastHeaderResult.toString(),
    );
  } else if (verb == 'meta') {
    reply(load<u8>(META).toString() + ' ' + load<i64>(META + 8).toString() + ' ' + load<i64>(META + 16).toString());
  } else if (verb == 'extra-read') {
    reply(read_next_record(META, META + 8, META + 16, BUF, BUF_CAP).toString());
  } else if (verb == 'prebatch') {
    reply(preBatchWrite.toString() + ' ' + preBatchRead.toString());
  } else if (verb == 'sr') {
    reply(sr_def_len(1, SCRATCH).toString());
  } else if (verb == 'poll') {
    // one clock subscription (tag 0) and one fd_read subscription (tag 1)
    const subs = new Uint8Array(96);
    store<u64>(subs.dataStart, 7);
    store<u8>(subs.dataStart + 8, 0);
    store<u64>(subs.dataStart + 48, 8);
    store<u8>(subs.dataStart + 56, 1);
    const evs = new Uint8Array(64);
    const rc = poll_oneoff(subs.dataStart, evs.dataStart, 2, SCRATCH);
    reply(
      rc.toString() + ' ' + load<u32>(SCRATCH).toString() + ' ' + load<u64>(evs.dataStart).toString() + ':' +
        load<u16>(evs.dataStart + 8).toString() + ' ' + load<u64>(evs.dataStart + 32).toString() + ':' +
        load<u16>(evs.dataStart + 40).toString(),
    );
  } else if (verb == 'misc') {
    reply(
      fd_prestat_get(0, SCRATCH).toString() + ' ' + fd_prestat_get(3, SCRATCH).toString() + ' ' +
        fd_read(0, SCRATCH, 0, SCRATCH + 8).toString() + ' ' + sched_yield().toString(),
    );
  } else if (verb == 'nothing') {
    // no output
  } else {
    reply('unknown ' + cmd);
  }
  return true;
}

export function _start(): void {
  check_abi();
  sr_check();
  // docs/abi.md §3: writes and reads before the first batch find no active batch.
  const p = textPayload('early');
  preBatchWrite = write_record(p.dataStart, p.length);
  preBatchRead = read_next_record(META, META + 8, META + 16, BUF, BUF_CAP);
  if (getenv('PROBE_START') == 'loop') {
    let i: i64 = 0;
    while (i >= 0) i++;
  }
  if (getenv('PROBE_START') == 'exit') proc_exit(3);
  while (true) {
    lastHeaderResult = read_batch_header(HDR, HDR + 8, HDR + 12, HDR + 16, HDR + 20, HDR + 24, HDR + 32, HDR + 40, HDR + 48, HDR + 52);
    const count = load<i32>(HDR + 8);
    for (let i = 0; i < count; i++) {
      let size: i32;
      if (smallNext) {
        smallNext = false;
        const first = read_next_record(META, META + 8, META + 16, BUF, 1);
        size = read_next_record(META, META + 8, META + 16, BUF, BUF_CAP);
        reply('small ' + first.toString() + ' ' + size.toString() + ' ' + valueOf());
        continue;
      }
      size = read_next_record(META, META + 8, META + 16, BUF, BUF_CAP);
      if (size < 0) unreachable();
      if (!handle(valueOf(), size)) return;
    }
  }
}
