// Guest memory access for host functions (docs/abi.md §0): the memory is looked up by its export name on every
// call, and every pointer/length pair is bounds-checked before the function runs.

export class FfiTrap extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FfiTrap';
  }
}

export const OOB = 'Out of bounds memory access in FFI';

export interface GuestMemory {
  /** The current bytes of the exported `memory` (re-fetched if it grew). */
  bytes(): Uint8Array;
  view(): DataView;
  /** The buffer under bytes() (reading `.buffer` of a view asks the runtime each time). */
  buffer(): ArrayBufferLike;
  /** Throws the FFI bounds trap unless [ptr, ptr+len) lies inside memory. */
  check(ptr: number, len: number): void;
}

export function createGuestMemory(exports: () => WebAssembly.Exports | null): GuestMemory {
  let buffer: ArrayBuffer | null = null;
  let u8 = new Uint8Array(0);
  let dv = new DataView(u8.buffer);
  // An instance's exports never change once it exists, so the lookup by name is done once and then only
  // the buffer is compared (it is replaced whenever memory.grow succeeds).
  let mem: WebAssembly.Memory | null = null;
  // A successful memory.grow detaches the old buffer of an ordinary memory, so an empty view is the cheap
  // sign that the buffer must be fetched again (reading `memory.buffer` on every host call cost more than
  // the checks themselves). A shared memory (only from a precompiled module) keeps its old buffer valid but
  // short, so it is compared on every call as before.
  let shared = false;
  function refresh(): void {
    if (u8.length !== 0 && !shared) return;
    if (mem === null) {
      const found = exports()?.memory;
      if (!(found instanceof WebAssembly.Memory)) throw new FfiTrap('Missing memory export');
      mem = found;
    }
    if (mem.buffer !== buffer) {
      buffer = mem.buffer;
      shared = typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
      u8 = new Uint8Array(buffer);
      dv = new DataView(buffer);
    }
  }
  return {
    bytes() {
      refresh();
      return u8;
    },
    view() {
      refresh();
      return dv;
    },
    buffer() {
      refresh();
      return buffer ?? u8.buffer;
    },
    check(ptr, len) {
      refresh();
      const p = ptr >>> 0;
      const n = len >>> 0;
      if (p + n > u8.length) throw new FfiTrap(OOB);
    },
  };
}
