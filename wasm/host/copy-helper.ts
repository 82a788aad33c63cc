// Payload copies between a slot's shared regions and the guest's linear memory, in Wasm: a helper module
// built here imports the guest memory and the slot's input and output memories (multi-memory) and copies
// with `memory.copy` across them. A typed-array set() between a SharedArrayBuffer and ordinary memory runs
// as V8's relaxed memmove (8 bytes per step, ~97 ns for 900 B); memory.copy moves the same bytes in ~22 ns.
// Used only where the regions are shared WebAssembly.Memory objects and the runtime accepts the module;
// otherwise (and should a copy ever trap) the caller copies with set() as before.
import { exportEntry, functype, I32, limits, moduleBytes, name, uleb, vec } from '../build/wasm-writer.ts';
import type { Region } from './shared.ts';

/** Copies `len` bytes; the caller has checked both ranges (a trap here means a stale size: copy in JS). */
export type CopyFn = (dst: number, src: number, len: number) => void;

export interface SlotCopier {
  /** Input region [src, src+len) to guest [dst, dst+len). */
  copyIn: CopyFn;
  /** Guest [src, src+len) to output region [dst, dst+len). */
  copyOut: CopyFn;
}

const GUEST = 0;
const INPUT = 1;
const OUTPUT = 2;
/** Largest 32-bit memory (a shared memory must declare a maximum; the regions' own one is below it). */
const MAX_PAGES = 65536;

function helperBytes(): Uint8Array {
  const memory = (field: string, lim: number[]) => [...name('m'), ...name(field), 0x02, ...lim];
  // (local.get 0) (local.get 1) (local.get 2) memory.copy dst src
  const copy = (dst: number, src: number) => {
    const code = [0x00, 0x20, 0, 0x20, 1, 0x20, 2, 0xfc, 0x0a, dst, src, 0x0b];
    return [...uleb(code.length), ...code];
  };
  return moduleBytes([
    { id: 1, body: vec([functype([I32, I32, I32], [])]) },
    {
      id: 2,
      body: vec([
        memory('guest', limits(0x00, 0)),
        memory('input', limits(0x03, 0, MAX_PAGES)),
        memory('output', limits(0x03, 0, MAX_PAGES)),
      ]),
    },
    { id: 3, body: vec([[0], [0]]) },
    { id: 7, body: vec([exportEntry('copy_in', 'func', 0), exportEntry('copy_out', 'func', 1)]) },
    { id: 10, body: vec([copy(GUEST, INPUT), copy(OUTPUT, GUEST)]) },
  ]);
}

/**
 * One copier per slot, or null when this runtime cannot (regions that are not shared memories, a guest
 * memory the helper cannot import, no multi-memory). Called once the guest's memory export exists.
 */
export function createSlotCopiers(
  guest: unknown,
  inputs: readonly Region[],
  outputs: readonly Region[],
): SlotCopier[] | null {
  if (!(guest instanceof WebAssembly.Memory)) return null;
  if (!inputs.every((r) => r instanceof WebAssembly.Memory)) return null;
  if (!outputs.every((r) => r instanceof WebAssembly.Memory)) return null;
  try {
    const module = new WebAssembly.Module(helperBytes() as Uint8Array<ArrayBuffer>);
    return inputs.map((input, i) => {
      const exports = new WebAssembly.Instance(module, { m: { guest, input, output: outputs[i]! } }).exports;
      return { copyIn: exports.copy_in as CopyFn, copyOut: exports.copy_out as CopyFn };
    });
  } catch {
    return null;
  }
}
