// The host's fixed heap: a copy of the module whose defined memory declares `max = limit`, so that
// memory.grow past the per-transform memory limit returns -1, as it fails against the broker's
// pre-reserved heap (docs/abi.md §10). The memory section is rewritten in place; nothing else moves.
import type { ModuleInfo } from './reader.ts';

function leb(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/** The module with every defined memory's maximum set to `maxPages` (or a smaller declared one kept). */
export function withMemoryMax(bytes: Uint8Array, info: ModuleInfo, maxPages: number): Uint8Array {
  if (info.memorySection === null || info.memories.length === 0) return bytes;
  const limit = BigInt(maxPages);
  const body: number[] = [...leb(BigInt(info.memories.length))];
  for (const m of info.memories) {
    const max = m.max === null || m.max > limit ? limit : m.max;
    const flags = 0x01 | (m.shared ? 0x02 : 0) | (m.memory64 ? 0x04 : 0);
    body.push(flags, ...leb(m.min), ...leb(max));
  }
  const { headerStart, end } = info.memorySection;
  const header = [5, ...leb(BigInt(body.length))];
  const out = new Uint8Array(headerStart + header.length + body.length + (bytes.length - end));
  out.set(bytes.subarray(0, headerStart), 0);
  out.set(header, headerStart);
  out.set(body, headerStart + header.length);
  out.set(bytes.subarray(end), headerStart + header.length + body.length);
  return out;
}
