// A tiny Wasm binary writer for hand-made test modules: sections are given as raw bytes or through
// a few helpers, in any order (so tests can also build modules the broker must refuse).

export function uleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

export function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

export function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

export const I32 = 0x7f;
export const I64 = 0x7e;

export const functype = (params: number[], results: number[]): number[] => [
  0x60,
  ...vec(params.map((p) => [p])),
  ...vec(results.map((r) => [r])),
];
export const funcImport = (module: string, field: string, typeIndex: number): number[] => [
  ...name(module),
  ...name(field),
  0x00,
  ...uleb(typeIndex),
];
export const memoryImport = (module: string, field: string, min: number): number[] => [
  ...name(module),
  ...name(field),
  0x02,
  0x00,
  ...uleb(min),
];
export const exportEntry = (field: string, kind: 'func' | 'memory' | 'global', index: number): number[] => [
  ...name(field),
  { func: 0, memory: 2, global: 3 }[kind],
  ...uleb(index),
];
/** Memory limits: flags 0 = min only, 1 = min and max, 4/5 = 64-bit. */
export const limits = (flags: number, min: number, max?: number): number[] => [
  flags,
  ...uleb(min),
  ...(max === undefined ? [] : uleb(max)),
];

export interface Section {
  id: number;
  body: number[];
}

export function moduleBytes(sections: Section[], version = 1): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, version, 0, 0, 0];
  for (const s of sections) out.push(s.id, ...uleb(s.body.length), ...s.body);
  return new Uint8Array(out);
}

/**
 * A minimal module the broker accepts: imports check_abi_version_2 (or what `imports` says),
 * defines `_start` () -> () and exports it with a memory named "memory". Parts can be overridden.
 */
export function transformModule(
  options: {
    imports?: Array<[module: string, field: string, type: number[]]>;
    memory?: number[] | null;
    exports?: number[][];
    startType?: number[];
    extraSections?: Section[];
    globals?: number[][];
  } = {},
): Uint8Array {
  const imports = options.imports ?? [['redpanda_transform', 'check_abi_version_2', functype([], [])]];
  const types = [...imports.map((i) => i[2]), options.startType ?? functype([], [])];
  const startIndex = imports.length;
  const sections: Section[] = [
    { id: 1, body: vec(types) },
    { id: 2, body: vec(imports.map(([m, f], i) => funcImport(m, f, i))) },
    { id: 3, body: vec([uleb(types.length - 1)]) },
  ];
  if (options.memory !== null) sections.push({ id: 5, body: vec([options.memory ?? limits(0, 1)]) });
  if (options.globals) sections.push({ id: 6, body: vec(options.globals) });
  sections.push({
    id: 7,
    body: vec(
      options.exports ?? [exportEntry('_start', 'func', startIndex), exportEntry('memory', 'memory', 0)],
    ),
  });
  sections.push(...(options.extraSections ?? []));
  // code: one body with no locals, just `end`
  sections.push({ id: 10, body: vec([[...uleb(2), 0x00, 0x0b]]) });
  return moduleBytes(sections);
}
