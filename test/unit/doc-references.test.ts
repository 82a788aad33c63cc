// Every reference in code, comments, help text and docs points inside the repository, at something
// that exists: a repository path (`relay/core/errors.ts`, a relative Markdown link), a docs/ section
// (`docs/abi.md §5`, `docs/abi.md §1.3`, `docs/delivery.md#dedupe-protocol`,
// `docs/delivery.md §"Dedupe protocol"`), and, in Wasm code, a bare `§N` (a section of docs/abi.md).
// Notes kept outside the repository are not references a clone can follow, so naming them fails.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DocSection, docSections, findReferences, type Reference } from '../support/doc-references.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SELF = relative(ROOT, import.meta.filename);
const SCANNED = /\.(ts|md|yaml|yml|json|as|sh|toml)$/;
const SKIPPED_DIRS = new Set(['node_modules', '.tools', 'build', '.git', 'json-schema']);
const SKIPPED_PATHS = new Set(['test/fixtures', 'package-lock.json']);

function files(dir = ROOT): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const rel = relative(ROOT, path);
    if (SKIPPED_DIRS.has(name) || name.startsWith('.ferry') || SKIPPED_PATHS.has(rel)) continue;
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (SCANNED.test(name) || rel === 'bin/ferry' || rel === '.ci/run') out.push(rel);
  }
  return out;
}

const sectionsCache = new Map<string, DocSection | null>();
function sectionsOf(doc: string): DocSection | null {
  if (!sectionsCache.has(doc)) {
    const path = join(ROOT, doc);
    sectionsCache.set(doc, existsSync(path) ? docSections(readFileSync(path, 'utf8')) : null);
  }
  return sectionsCache.get(doc)!;
}

/** Why the reference does not resolve, or undefined when it does. */
function problem(ref: Reference, file: string): string | undefined {
  if (ref.kind === 'external') return `names a note outside the repository (${ref.text}); cite docs/ instead`;
  const target = ref.relative ? join(dirname(file), ref.path) : ref.path;
  const normal = relative(ROOT, resolve(ROOT, target));
  if (normal.startsWith('..') || !existsSync(join(ROOT, normal)))
    return `${ref.text}: no such file (${normal})`;
  if (ref.anchor === undefined && ref.section === undefined) return undefined;
  const sections = sectionsOf(normal);
  if (sections === null) return `${ref.text}: not a Markdown file`;
  if (ref.anchor !== undefined && !sections.anchors.has(ref.anchor))
    return `${ref.text}: ${normal} has no heading with anchor #${ref.anchor}`;
  if (ref.section !== undefined && !sections.has(ref.section))
    return `${ref.text}: ${normal} has no section §${ref.section}`;
  return undefined;
}

describe('references in code and docs', () => {
  const all = files();

  it('scans the repository (code, tests, docs, help text)', () => {
    for (const f of ['README.md', 'cli/commands/transform.ts', 'wasm/host/host.ts', 'docs/abi.md']) {
      expect(all).toContain(f);
    }
    expect(all.length).toBeGreaterThan(300);
  });

  it('every reference resolves to a repository file and, for docs/, to an existing section', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of all) {
      if (file === SELF) continue;
      for (const ref of findReferences(file, readFileSync(join(ROOT, file), 'utf8'))) {
        checked++;
        const why = problem(ref, file);
        if (why !== undefined) broken.push(`${file}:${ref.line}: ${why}`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });
});

describe('the reference finder', () => {
  const abi = docSections(
    '# T\n\n## 1. Module shape\n\n1. one\n2. two\n\n## 11. Failure and restart\n\ntext\n',
  );

  it('finds external notes, missing files, missing sections and bare Wasm sections', () => {
    const notes = ['ABI', 'DESIGN', 'UPSTASH_PROTOCOL', 'STYLE'].map((n) => `${n}.md`);
    const text = [
      `// see ${notes[0]} §3 and ${notes[1]} "Names"`,
      `// ${notes[2]}, ${notes[3]} 4 and ../${'shared'}/x`,
      '// relay/contracts/wire.ts and wasm/build/sdk.test.ts',
      '// docs/abi.md §5, docs/abi.md §1.3, docs/delivery.md#dedupe-protocol, docs/delivery.md §"Dedupe protocol"',
      '// (§2.4) and §11',
    ].join('\n');
    const refs = findReferences('wasm/host/x.ts', text);
    expect(refs.filter((r) => r.kind === 'external').map((r) => r.line)).toEqual([1, 1, 2, 2, 2]);
    const paths = refs.filter((r) => r.kind === 'path');
    expect(paths.map((r) => [r.path, r.section ?? r.anchor ?? null])).toEqual([
      ['docs/abi.md', '3'], // a bare § in Wasm code is a section of docs/abi.md
      ['relay/contracts/wire.ts', null],
      ['wasm/build/sdk.test.ts', null],
      ['docs/abi.md', '5'],
      ['docs/abi.md', '1.3'],
      ['docs/delivery.md', 'dedupe-protocol'],
      ['docs/delivery.md', '"Dedupe protocol"'],
      ['docs/abi.md', '2.4'],
      ['docs/abi.md', '11'],
    ]);
    expect(problem(paths[1]!, 'wasm/host/x.ts')).toMatch(/no such file/);
    expect(problem(paths[2]!, 'wasm/host/x.ts')).toMatch(/no such file/);
  });

  it('resolves numbered sections, numbered items within them, anchors and heading text', () => {
    expect(abi.has('1')).toBe(true);
    expect(abi.has('1.2')).toBe(true);
    expect(abi.has('1.3')).toBe(false);
    expect(abi.has('11')).toBe(true);
    expect(abi.has('2')).toBe(false);
    expect(abi.has('"Failure and restart"')).toBe(true);
    expect(abi.has('"Nothing like it"')).toBe(false);
    expect(abi.anchors.has('11-failure-and-restart')).toBe(true);
    expect(abi.anchors.has('failure')).toBe(false);
  });

  it('reports a docs/ section that does not exist', () => {
    const [missing] = findReferences('relay/x.ts', '// docs/abi.md §99 and docs/delivery.md#no-such-heading');
    expect(problem(missing!, 'relay/x.ts')).toMatch(/no section §99/);
    const [, anchor] = findReferences(
      'relay/x.ts',
      '// docs/abi.md §99 and docs/delivery.md#no-such-heading',
    );
    expect(problem(anchor!, 'relay/x.ts')).toMatch(/no heading with anchor #no-such-heading/);
  });

  it('leaves bare § alone outside Wasm code that does not cite docs/abi.md', () => {
    expect(findReferences('relay/core/x.ts', '// see §12 of the RFC')).toEqual([]);
  });
});
