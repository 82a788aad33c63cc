// wasi_snapshot_preview1 as the broker defines it (docs/abi.md §8): every preview1 name is defined so any WASI
// libc links, and only a few do something: args, environ, clocks on record time, fd_write to the logs,
// deterministic random_get, proc_exit traps, sched_yield, poll_oneoff without sleeping.

import { LINKER } from '../module/imports.ts';
import { FfiTrap, type GuestMemory } from './ffi.ts';
import { guestLogMessage } from './guest-log.ts';

export const ERRNO_SUCCESS = 0;
export const ERRNO_BADF = 8;
export const ERRNO_INVAL = 16;
export const ERRNO_NOSYS = 52;

/** proc_exit: the broker throws, which traps the VM (§8, §11). */
export class ProcExit extends Error {
  readonly exitCode: number;
  constructor(code: number) {
    super(`exited with code: ${code}`);
    this.name = 'ProcExit';
    this.exitCode = code;
  }
}

export interface WasiClock {
  /**
   * Wall clock: the current batch/record timestamp in ms (§8), a plain number so that setting it per record
   * allocates nothing; clock_time_get converts it to ns.
   */
  realtimeMs: number;
}

export interface WasiOptions {
  memory: GuestMemory;
  args: string[];
  environ: string[];
  clock: WasiClock;
  /** One event per fd_write to fd 1 (info) or 2 (warn), as guest-log.ts takes it. */
  onLog(level: 'info' | 'warn', message: string): void;
  logLineMaxBytes: number;
}

const encoder = new TextEncoder();
const MS_NS = 1_000_000n;

function cStrings(list: string[]): Uint8Array[] {
  return list.map((s) => encoder.encode(`${s}\0`));
}

type HostFn = (...args: never[]) => number | undefined;

export function createWasi({ memory, args, environ, clock, onLog, logLineMaxBytes }: WasiOptions) {
  const argBytes = cStrings(args);
  const envBytes = cStrings(environ);
  // MONOTONIC / PROCESS_CPUTIME / THREAD_CPUTIME: one counter from 0, +1 ms per call (§8).
  let counterNs = 0n;

  function sizesGet(list: Uint8Array[], countPtr: number, sizePtr: number): number {
    memory.check(countPtr, 4);
    memory.check(sizePtr, 4);
    const dv = memory.view();
    dv.setUint32(countPtr, list.length, true);
    dv.setUint32(
      sizePtr,
      list.reduce((n, b) => n + b.length, 0),
      true,
    );
    return ERRNO_SUCCESS;
  }

  function listGet(list: Uint8Array[], ptrs: number, buf: number): number {
    const total = list.reduce((n, b) => n + b.length, 0);
    const p = ptrs >>> 0;
    const b = buf >>> 0;
    const mem = memory.bytes();
    // A translation failure is INVAL, not a trap (§8).
    if (p + list.length * 4 > mem.length || b + total > mem.length) return ERRNO_INVAL;
    const dv = memory.view();
    let pos = b;
    for (let i = 0; i < list.length; i++) {
      dv.setUint32(p + i * 4, pos, true);
      mem.set(list[i]!, pos);
      pos += list[i]!.length;
    }
    return ERRNO_SUCCESS;
  }

  const nosys = (): number => ERRNO_NOSYS;
  const fns: Record<string, HostFn> = {};
  for (const name of Object.keys(LINKER.wasi_snapshot_preview1!)) fns[name] = nosys;

  Object.assign(fns, {
    args_sizes_get: (countPtr: number, sizePtr: number) => sizesGet(argBytes, countPtr, sizePtr),
    args_get: (ptrs: number, buf: number) => listGet(argBytes, ptrs, buf),
    environ_sizes_get: (countPtr: number, sizePtr: number) => sizesGet(envBytes, countPtr, sizePtr),
    environ_get: (ptrs: number, buf: number) => listGet(envBytes, ptrs, buf),
    clock_res_get(id: number, out: number) {
      memory.check(out, 8);
      if (id < 0 || id > 3) return ERRNO_INVAL;
      memory.view().setBigUint64(out, MS_NS, true);
      return ERRNO_SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, out: number) {
      memory.check(out, 8);
      if (id === 0) {
        memory.view().setBigUint64(out, BigInt.asUintN(64, BigInt(clock.realtimeMs) * 1_000_000n), true);
        return ERRNO_SUCCESS;
      }
      if (id >= 1 && id <= 3) {
        memory.view().setBigUint64(out, counterNs, true);
        counterNs += MS_NS;
        return ERRNO_SUCCESS;
      }
      return ERRNO_INVAL;
    },
    fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number) {
      memory.check(iovs, (iovsLen >>> 0) * 8);
      memory.check(nwritten, 4);
      if (fd !== 1 && fd !== 2) return ERRNO_NOSYS;
      const mem = memory.bytes();
      const dv = memory.view();
      // One message per call: the buffers joined, as the broker's fd_write hands them to its logger (§8).
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < iovsLen >>> 0; i++) {
        const ptr = dv.getUint32(iovs + i * 8, true);
        const len = dv.getUint32(iovs + i * 8 + 4, true);
        if (ptr + len > mem.length) return ERRNO_INVAL;
        parts.push(mem.subarray(ptr, ptr + len));
        total += len;
      }
      const joined = parts.length === 1 ? parts[0]! : new Uint8Array(total);
      if (parts.length !== 1) {
        let at = 0;
        for (const p of parts) {
          joined.set(p, at);
          at += p.length;
        }
      }
      const message = guestLogMessage(joined, logLineMaxBytes);
      if (message !== null) onLog(fd === 1 ? 'info' : 'warn', message);
      dv.setUint32(nwritten, total, true);
      return ERRNO_SUCCESS;
    },
    random_get(buf: number, len: number) {
      memory.check(buf, len);
      memory.bytes().fill(9, buf >>> 0, (buf >>> 0) + (len >>> 0));
      return ERRNO_SUCCESS;
    },
    proc_exit(code: number) {
      throw new ProcExit(code);
    },
    sched_yield: () => ERRNO_SUCCESS,
    poll_oneoff(inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) {
      const n = nsubs >>> 0;
      memory.check(inPtr, n * 48);
      memory.check(outPtr, n * 32);
      memory.check(neventsPtr, 4);
      const dv = memory.view();
      for (let i = 0; i < n; i++) {
        const sub = inPtr + i * 48;
        const tag = dv.getUint8(sub + 8);
        if (tag > 2) return ERRNO_NOSYS;
        const ev = outPtr + i * 32;
        dv.setBigUint64(ev, dv.getBigUint64(sub, true), true); // userdata
        dv.setUint16(ev + 8, tag === 0 ? ERRNO_SUCCESS : ERRNO_NOSYS, true); // clocks fire at once, fds NOSYS
        dv.setUint8(ev + 10, tag);
        dv.setBigUint64(ev + 16, 0n, true);
        dv.setUint16(ev + 24, 0, true);
      }
      dv.setUint32(neventsPtr, n, true);
      return ERRNO_SUCCESS;
    },
    fd_prestat_get(fd: number, out: number) {
      memory.check(out, 8);
      return fd >= 0 && fd <= 2 ? ERRNO_NOSYS : ERRNO_BADF;
    },
  });
  return fns;
}

export { FfiTrap };
