// A tiny Wasm binary builder for host tests: hand-assembled bytes, exact and dependency-free.
// Only what the tests need: function types, function imports, one memory, functions with raw bodies,
// exports, and an optional start function.

export type T = 'i32' | 'i64';

export interface ImportSpec {
  module: string;
  name: string;
  params?: T[];
  results?: T[];
}

export interface FunctionSpec {
  params?: T[];
  results?: T[];
  locals?: T[];
  /** Raw instruction bytes, without the final `end`. */
  body: number[];
  export?: string;
}

export interface ModuleSpec {
  imports?: ImportSpec[];
  /** Omitted = no memory. */
  memory?: { min: number; max?: number; exportName?: string | null };
  functions?: FunctionSpec[];
  /** Index (in the function index space) of a Wasm start function. */
  start?: number;
}

const VAL: Record<T, number> = { i32: 0x7f, i64: 0x7e };

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** Instruction helpers. */
export const op = {
  unreachable: 0x00,
  drop: 0x1a,
  end: 0x0b,
  call: (f: number) => [0x10, ...uleb(f)],
  i32: (v: number) => [0x41, ...sleb(v)],
  get: (l: number) => [0x20, ...uleb(l)],
  set: (l: number) => [0x21, ...uleb(l)],
  load: (offset = 0) => [0x28, 0x02, ...uleb(offset)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  geS: 0x4e,
  add: 0x6a,
};

export function buildModule(spec: ModuleSpec): Uint8Array {
  const types: string[] = [];
  const typeIndex = (params: T[] = [], results: T[] = []): number => {
    const key = `${params.join(',')}>${results.join(',')}`;
    let i = types.indexOf(key);
    if (i < 0) i = types.push(key) - 1;
    return i;
  };
  const imports = (spec.imports ?? []).map((imp) => [
    ...str(imp.module),
    ...str(imp.name),
    0x00,
    ...uleb(typeIndex(imp.params, imp.results)),
  ]);
  const functions = spec.functions ?? [];
  const funcTypes = functions.map((f) => uleb(typeIndex(f.params, f.results)));
  const typeEntries = types.map((key) => {
    const [p = '', r = ''] = key.split('>');
    const ps = p === '' ? [] : (p.split(',') as T[]);
    const rs = r === '' ? [] : (r.split(',') as T[]);
    return [0x60, ...uleb(ps.length), ...ps.map((t) => VAL[t]), ...uleb(rs.length), ...rs.map((t) => VAL[t])];
  });
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  out.push(...section(1, vec(typeEntries)));
  if (imports.length > 0) out.push(...section(2, vec(imports)));
  if (functions.length > 0) out.push(...section(3, vec(funcTypes)));
  if (spec.memory !== undefined) {
    const m = spec.memory;
    const limits = m.max === undefined ? [0x00, ...uleb(m.min)] : [0x01, ...uleb(m.min), ...uleb(m.max)];
    out.push(...section(5, vec([limits])));
  }
  const nImports = imports.length;
  const exports: number[][] = [];
  functions.forEach((f, i) => {
    if (f.export !== undefined) exports.push([...str(f.export), 0x00, ...uleb(nImports + i)]);
  });
  const memName = spec.memory?.exportName === undefined ? 'memory' : spec.memory.exportName;
  if (spec.memory !== undefined && memName !== null) exports.push([...str(memName), 0x02, 0x00]);
  out.push(...section(7, vec(exports)));
  if (spec.start !== undefined) out.push(...section(8, uleb(spec.start)));
  if (functions.length > 0) {
    const bodies = functions.map((f) => {
      const locals = (f.locals ?? []).map((t) => [0x01, VAL[t]]);
      const body = [...vec(locals), ...f.body, op.end];
      return [...uleb(body.length), ...body];
    });
    out.push(...section(10, vec(bodies)));
  }
  return new Uint8Array(out);
}

const RT = 'redpanda_transform';

/**
 * An ABI v1 guest written in raw bytecode: passes every record through unchanged with write_record
 * (docs/abi.md §5: read and write use the same payload format). Memory layout: header out-params at 0..56,
 * record meta at 64..88, record buffer at 1024 (60,000 bytes).
 */
export function echoV1Module(): Uint8Array {
  const i32x = (n: number): T[] => Array.from({ length: n }, () => 'i32');
  const [count, i, size] = [0, 1, 2];
  const header = [0, 8, 12, 16, 20, 24, 32, 40, 48, 52].flatMap((p) => op.i32(p));
  return buildModule({
    imports: [
      { module: RT, name: 'check_abi_version_1' },
      { module: RT, name: 'read_batch_header', params: i32x(10), results: ['i32'] },
      { module: RT, name: 'read_next_record', params: i32x(5), results: ['i32'] },
      { module: RT, name: 'write_record', params: i32x(2), results: ['i32'] },
    ],
    memory: { min: 2 },
    functions: [
      {
        export: '_start',
        locals: ['i32', 'i32', 'i32'],
        body: [
          ...op.call(0),
          ...op.loop,
          ...header,
          ...op.call(1),
          op.drop,
          ...op.i32(8),
          ...op.load(),
          ...op.set(count),
          ...op.i32(0),
          ...op.set(i),
          ...op.block,
          ...op.loop,
          ...op.get(i),
          ...op.get(count),
          op.geS,
          ...op.brIf(1),
          ...[64, 72, 80, 1024, 60000].flatMap((p) => op.i32(p)),
          ...op.call(2),
          ...op.set(size),
          ...op.i32(1024),
          ...op.get(size),
          ...op.call(3),
          op.drop,
          ...op.get(i),
          ...op.i32(1),
          op.add,
          ...op.set(i),
          ...op.br(0),
          op.end,
          op.end,
          ...op.br(0),
          op.end,
        ],
      },
    ],
  });
}

/** The smallest module the broker links: imports check_abi_version_2, exports memory and an idle _start. */
export function minimalModule(overrides: Partial<ModuleSpec> = {}): Uint8Array {
  return buildModule({
    imports: [{ module: RT, name: 'check_abi_version_2' }],
    memory: { min: 1 },
    functions: [{ export: '_start', body: [...op.call(0)] }],
    ...overrides,
  });
}
