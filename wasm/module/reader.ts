// The one WebAssembly binary reader of wasm/: the module structure the broker looks at before it runs a
// module, read once for both the deploy-time checks (`ferry transform check`, wasm/build/check.ts) and
// the host's linker (wasm/host/prepare.ts), so the two cannot read a module differently (docs/abi.md §1).
// It reads the section headers and the type, import, function, table, memory, global, export and start
// sections; code and data are skipped. Malformed input is reported as a WasmFormatError, never an
// unhandled exception.

export const SECTION_NAMES: Readonly<Record<number, string>> = {
  0: 'custom',
  1: 'type',
  2: 'import',
  3: 'function',
  4: 'table',
  5: 'memory',
  6: 'global',
  7: 'export',
  8: 'start',
  9: 'element',
  10: 'code',
  11: 'data',
  12: 'datacount',
};

/** The order the broker's parser requires (custom sections may appear anywhere). */
export const SECTION_ORDER: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];

/** Import and export kinds, named as WebAssembly.Module.imports() names them. */
export type ExternalKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
const KINDS: readonly ExternalKind[] = ['function', 'table', 'memory', 'global', 'tag'];

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

export interface Limits {
  readonly min: bigint;
  readonly max: bigint | null;
  readonly shared: boolean;
  readonly memory64: boolean;
}

export interface ModuleImport {
  readonly module: string;
  readonly name: string;
  readonly kind: ExternalKind;
  /** For function imports: the type index, and the type itself. */
  readonly typeIndex?: number;
  readonly type?: FuncType;
  readonly limits?: Limits;
}

export interface ModuleExport {
  readonly name: string;
  readonly kind: ExternalKind;
  readonly index: number;
}

export interface ModuleGlobal {
  /** The opcodes of the initialiser expression, `end` excluded. */
  readonly initOps: readonly number[];
}

/** What the reader found in a module: the one shape the checks, the linker and the CLI share. */
export interface ModuleInfo {
  readonly version: number;
  readonly sectionIds: readonly number[];
  readonly types: readonly FuncType[];
  readonly imports: readonly ModuleImport[];
  /** Type index of each function defined in the module (after the imported ones). */
  readonly functions: readonly number[];
  readonly tables: readonly Limits[];
  readonly memories: readonly Limits[];
  readonly globals: readonly ModuleGlobal[];
  readonly exports: readonly ModuleExport[];
  readonly startFunction: number | null;
  /** Byte range of the memory section (id 5), header included from `headerStart`: the host rewrites it. */
  readonly memorySection: {
    readonly headerStart: number;
    readonly start: number;
    readonly end: number;
  } | null;
  /** Names longer than the parser's cap, with where they were found. */
  readonly longNames: readonly string[];
}

export interface WasmFormatError {
  readonly code: 'FERRY_WASM_FORMAT';
  readonly retryable: false;
  readonly message: string;
}

export function isWasmFormatError(e: unknown): e is WasmFormatError {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'FERRY_WASM_FORMAT';
}

function formatError(message: string): WasmFormatError {
  return { code: 'FERRY_WASM_FORMAT', retryable: false, message };
}

export const NAME_MAX_BYTES = 512;

const VALTYPES: Readonly<Record<number, ValType>> = {
  127: 'i32',
  126: 'i64',
  125: 'f32',
  124: 'f64',
  123: 'v128',
  112: 'funcref',
  111: 'externref',
};

class Cursor {
  pos: number;
  readonly end: number;
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, pos: number, end: number) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  byte(): number {
    if (this.pos >= this.end) throw formatError(`unexpected end of data at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw formatError(`LEB128 u32 too long at byte ${this.pos}`);
  }

  u64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw formatError(`LEB128 u64 too long at byte ${this.pos}`);
  }

  skipSigned(maxBytes: number): void {
    for (let i = 0; i < maxBytes; i++) if ((this.byte() & 0x80) === 0) return;
    throw formatError(`signed LEB128 too long at byte ${this.pos}`);
  }

  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end)
      throw formatError(`length ${n} runs past the end at byte ${this.pos}`);
    this.pos += n;
  }

  name(where: string, longNames: string[]): string {
    const len = this.u32();
    const start = this.pos;
    this.skip(len);
    if (len > NAME_MAX_BYTES) longNames.push(`${where} (${len} bytes)`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(start, start + len));
    } catch {
      throw formatError(`${where}: name is not valid UTF-8`);
    }
  }

  valtype(): ValType {
    const b = this.byte();
    const t = VALTYPES[b];
    if (t === undefined) throw formatError(`unknown value type 0x${b.toString(16)} at byte ${this.pos - 1}`);
    return t;
  }

  limits(memory: boolean): Limits {
    const flags = this.byte();
    if (flags > (memory ? 0x07 : 0x05)) throw formatError(`unknown limits flags 0x${flags.toString(16)}`);
    const memory64 = (flags & 0x04) !== 0;
    const min = memory64 ? this.u64() : BigInt(this.u32());
    const max = (flags & 0x01) !== 0 ? (memory64 ? this.u64() : BigInt(this.u32())) : null;
    return { min, max, shared: (flags & 0x02) !== 0, memory64 };
  }
}

function readCount(c: Cursor, what: string, cap: number): number {
  const n = c.u32();
  if (n > cap) throw formatError(`${what} count ${n} is over the cap of ${cap}`);
  return n;
}

/** Decodes the module structure. Throws WasmFormatError for anything malformed. */
export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  if (bytes.length < 8) throw formatError('too short to be a Wasm module');
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw formatError('missing the \\0asm magic');
  }
  const version = bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24);
  const sectionIds: number[] = [];
  const types: FuncType[] = [];
  const imports: ModuleImport[] = [];
  const functions: number[] = [];
  const tables: Limits[] = [];
  const memories: Limits[] = [];
  const globals: ModuleGlobal[] = [];
  const exports: ModuleExport[] = [];
  const longNames: string[] = [];
  let startFunction: number | null = null;
  let memorySection: ModuleInfo['memorySection'] = null;
  const module = {
    version,
    sectionIds,
    types,
    imports,
    functions,
    tables,
    memories,
    globals,
    exports,
    get startFunction() {
      return startFunction;
    },
    get memorySection() {
      return memorySection;
    },
    longNames,
  };
  if (version !== 1) return module;

  const top = new Cursor(bytes, 8, bytes.length);
  while (top.pos < top.end) {
    const headerStart = top.pos;
    const id = top.byte();
    const size = top.u32();
    const start = top.pos;
    top.skip(size);
    sectionIds.push(id);
    const c = new Cursor(bytes, start, start + size);
    switch (id) {
      case 1: {
        const n = readCount(c, 'type', 1_000_000);
        for (let i = 0; i < n; i++) {
          const form = c.byte();
          if (form !== 0x60) throw formatError(`type ${i}: unsupported form 0x${form.toString(16)}`);
          const pn = c.u32();
          if (pn > 1_000_000) throw formatError(`type ${i}: too many params`);
          const params = Array.from({ length: pn }, () => c.valtype());
          const rn = c.u32();
          if (rn > 1_000_000) throw formatError(`type ${i}: too many results`);
          const results = Array.from({ length: rn }, () => c.valtype());
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        const n = readCount(c, 'import', 1_000_000);
        for (let i = 0; i < n; i++) {
          const mod = c.name(`import ${i} module`, longNames);
          const name = c.name(`import ${i} name`, longNames);
          const k = c.byte();
          const kind = KINDS[k];
          if (kind === undefined) throw formatError(`import ${mod}.${name}: unknown kind ${k}`);
          if (kind === 'function') {
            const typeIndex = c.u32();
            const type = types[typeIndex];
            imports.push({ module: mod, name, kind, typeIndex, ...(type === undefined ? {} : { type }) });
          } else if (kind === 'table') {
            c.valtype();
            imports.push({ module: mod, name, kind, limits: c.limits(false) });
          } else if (kind === 'memory') imports.push({ module: mod, name, kind, limits: c.limits(true) });
          else if (kind === 'global') {
            c.valtype();
            c.byte();
            imports.push({ module: mod, name, kind });
          } else {
            c.byte();
            c.u32();
            imports.push({ module: mod, name, kind });
          }
        }
        break;
      }
      case 3: {
        const n = readCount(c, 'function', 1_000_000);
        for (let i = 0; i < n; i++) functions.push(c.u32());
        break;
      }
      case 4: {
        const n = readCount(c, 'table', 100_000);
        for (let i = 0; i < n; i++) {
          c.valtype();
          tables.push(c.limits(false));
        }
        break;
      }
      case 5: {
        memorySection = { headerStart, start, end: start + size };
        const n = readCount(c, 'memory', 100_000);
        for (let i = 0; i < n; i++) memories.push(c.limits(true));
        break;
      }
      case 6: {
        const n = readCount(c, 'global', 1_000_000);
        for (let i = 0; i < n; i++) {
          c.valtype();
          c.byte();
          const initOps = readConstExpr(c);
          globals.push({ initOps });
          // An opcode this reader does not know leaves the cursor mid-expression: stop here.
          if (!CONST_OPS.has(initOps[initOps.length - 1] ?? 0x41)) break;
        }
        break;
      }
      case 7: {
        const n = readCount(c, 'export', 1_000_000);
        for (let i = 0; i < n; i++) {
          const name = c.name(`export ${i}`, longNames);
          const k = c.byte();
          const kind = KINDS[k];
          if (kind === undefined) throw formatError(`export ${name}: unknown kind ${k}`);
          exports.push({ name, kind, index: c.u32() });
        }
        break;
      }
      case 8:
        startFunction = c.u32();
        break;
      default:
        break;
    }
  }
  return module;
}

/** Opcodes the broker's parser accepts in a global initialiser (docs/abi.md §1.5). */
export const CONST_OPS: ReadonlySet<number> = new Set([0x23, 0x41, 0x42, 0x43, 0x44, 0xd0]);

/** Reads an initialiser expression up to its `end`, returning the opcodes it used. */
function readConstExpr(c: Cursor): number[] {
  const ops: number[] = [];
  for (;;) {
    const op = c.byte();
    if (op === 0x0b) return ops;
    ops.push(op);
    switch (op) {
      case 0x23: // global.get
      case 0xd2: // ref.func
        c.u32();
        break;
      case 0x41: // i32.const
        c.skipSigned(5);
        break;
      case 0x42: // i64.const
        c.skipSigned(10);
        break;
      case 0x43: // f32.const
        c.skip(4);
        break;
      case 0x44: // f64.const
        c.skip(8);
        break;
      case 0xd0: // ref.null
        c.byte();
        break;
      default:
        // Anything else (extended const, SIMD const, ...): the broker refuses it; stop reading.
        return ops;
    }
    if (ops.length > 64) return ops;
  }
}

/** The type of function `index` in the function index space (imported functions first). */
export function functionType(info: ModuleInfo, index: number): FuncType | undefined {
  let imported = 0;
  for (const imp of info.imports) {
    if (imp.kind !== 'function') continue;
    if (imported === index) return imp.typeIndex === undefined ? undefined : info.types[imp.typeIndex];
    imported++;
  }
  const local = info.functions[index - imported];
  return local === undefined ? undefined : info.types[local];
}
