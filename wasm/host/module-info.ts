// A small reader for the parts of a Wasm binary the host must see before instantiating it: function types,
// imports (with signatures, to refuse what the broker's linker would refuse, docs/abi.md §1 "Link-time"),
// exports (`_start`, `memory`, §1), and the defined memory's limits, which the host rewrites so that
// memory.grow beyond the per-transform limit fails (§10).

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref' | 'unknown';

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  /** For functions. */
  type?: FuncType;
}

export interface ExportEntry {
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  index: number;
}

export interface MemoryLimits {
  min: number;
  max: number | null;
  memory64: boolean;
  shared: boolean;
}

export interface ModuleInfo {
  types: FuncType[];
  imports: ImportEntry[];
  exports: ExportEntry[];
  /** Type of every function, imported ones first (the function index space). */
  functionTypes: FuncType[];
  /** Memories defined by the module (not imported). */
  memories: MemoryLimits[];
  /** Byte range of the memory section (id 5) in the binary, if any. */
  memorySection: { headerStart: number; start: number; end: number } | null;
}

const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;
const VALTYPES: Record<number, ValType> = {
  127: 'i32',
  126: 'i64',
  125: 'f32',
  124: 'f64',
  123: 'v128',
  112: 'funcref',
  111: 'externref',
};

class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('unexpected end of module');
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 35) throw new RangeError('LEB128 too long');
    }
  }
  name(): string {
    const len = this.u32();
    if (this.pos + len > this.bytes.length) throw new RangeError('unexpected end of module');
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  limits(): MemoryLimits {
    const flags = this.byte();
    const min = this.u32();
    const max = flags & 0x01 ? this.u32() : null;
    return { min, max, shared: (flags & 0x02) !== 0, memory64: (flags & 0x04) !== 0 };
  }
}

function valtype(b: number): ValType {
  return VALTYPES[b] ?? 'unknown';
}

export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  const r = new Reader(bytes);
  const magic = [r.byte(), r.byte(), r.byte(), r.byte()];
  if (magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) {
    throw new RangeError('not a Wasm module (bad magic)');
  }
  const version = r.byte() | (r.byte() << 8) | (r.byte() << 16) | (r.byte() << 24);
  if (version !== 1) throw new RangeError(`unsupported Wasm binary version ${version}`);
  const info: ModuleInfo = {
    types: [],
    imports: [],
    exports: [],
    functionTypes: [],
    memories: [],
    memorySection: null,
  };
  while (r.pos < bytes.length) {
    const headerStart = r.pos;
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    if (end > bytes.length) throw new RangeError('section runs past the end of the module');
    const s = new Reader(bytes.subarray(0, end), start);
    if (id === 1) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const form = s.byte();
        if (form !== 0x60) throw new RangeError(`unsupported type form 0x${form.toString(16)}`);
        const params = Array.from({ length: s.u32() }, () => valtype(s.byte()));
        const results = Array.from({ length: s.u32() }, () => valtype(s.byte()));
        info.types.push({ params, results });
      }
    } else if (id === 2) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const module = s.name();
        const name = s.name();
        const kind = KINDS[s.byte()] ?? 'tag';
        const entry: ImportEntry = { module, name, kind };
        if (kind === 'function') {
          const type = info.types[s.u32()];
          if (type === undefined) throw new RangeError('import refers to an unknown type');
          entry.type = type;
          info.functionTypes.push(type);
        } else if (kind === 'table') {
          s.byte();
          s.limits();
        } else if (kind === 'memory') {
          s.limits();
        } else if (kind === 'global') {
          s.byte();
          s.byte();
        } else {
          s.byte();
          s.u32();
        }
        info.imports.push(entry);
      }
    } else if (id === 3) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const type = info.types[s.u32()];
        if (type === undefined) throw new RangeError('function refers to an unknown type');
        info.functionTypes.push(type);
      }
    } else if (id === 5) {
      info.memorySection = { headerStart, start, end };
      const n = s.u32();
      for (let i = 0; i < n; i++) info.memories.push(s.limits());
    } else if (id === 7) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const name = s.name();
        const kind = KINDS[s.byte()] ?? 'tag';
        info.exports.push({ name, kind, index: s.u32() });
      }
    }
    r.pos = end;
  }
  return info;
}

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}

/**
 * Returns a copy of the module whose defined memories declare `max = maxPages` (or keep a smaller declared
 * maximum). This is how the host gives every instance a fixed heap, like the broker's pre-reserved heap:
 * memory.grow past it returns -1 (§10).
 */
export function withMemoryMax(bytes: Uint8Array, info: ModuleInfo, maxPages: number): Uint8Array {
  if (info.memorySection === null || info.memories.length === 0) return bytes;
  const body: number[] = [...leb(info.memories.length)];
  for (const m of info.memories) {
    const max = m.max === null ? maxPages : Math.min(m.max, maxPages);
    const flags = 0x01 | (m.shared ? 0x02 : 0) | (m.memory64 ? 0x04 : 0);
    body.push(flags, ...leb(m.min), ...leb(max));
  }
  const { headerStart, end } = info.memorySection;
  const header = [5, ...leb(body.length)];
  const out = new Uint8Array(headerStart + header.length + body.length + (bytes.length - end));
  out.set(bytes.subarray(0, headerStart), 0);
  out.set(header, headerStart);
  out.set(body, headerStart + header.length);
  out.set(bytes.subarray(end), headerStart + header.length + body.length);
  return out;
}
