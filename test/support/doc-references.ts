// Finds the references a file makes to other files and to docs/ sections, and reads a Markdown file's
// sections, for test/unit/doc-references.test.ts. Pure: text in, references out.
//
// What counts as a reference:
//   - a repository path from a top-level folder, with a known extension: `relay/core/errors.ts`,
//     optionally followed by `#anchor`, ` §5`, ` §1.3` or ` §"Heading text"`;
//   - in Markdown, a relative link target: `[delivery](delivery.md#commit-rule)`;
//   - in Wasm code (wasm/, transforms/, test/support/guests/) and in any file citing docs/abi.md, a bare
//     `§N` or `§N.M`: a section (and numbered item) of docs/abi.md;
//   - the names of notes kept outside the repository, which no clone contains (always a problem).

export interface Reference {
  kind: 'path' | 'external';
  /** 1-based line of the reference. */
  line: number;
  /** The text as written. */
  text: string;
  /** For paths: from the repository root, or from the citing file's folder when `relative`. */
  path: string;
  relative: boolean;
  anchor?: string;
  /** `5`, `1.3` or `"Heading text"`. */
  section?: string;
}

export interface DocSection {
  /** GitHub-style heading anchors. */
  anchors: Set<string>;
  has(section: string): boolean;
}

const EXTERNAL =
  /(?<![\w/.-])(?:ABI|DESIGN|UPSTASH_PROTOCOL|STYLE|ROADMAP)\.md\b|(?:\.\.\/)+shared\b|(?<![\w.])\/shared\//g;
const PATH =
  /(?<![\w./@<-])((?:relay|wasm|cli|deploy|test|transforms|docs|bin|\.ci)\/[\w./-]*\.(?:ts|md|yaml|yml|json|as|sh|toml))(?![\w/-])(?:#([\w-]+)| §(\d+(?:\.\d+)?|"[^"]+"))?/g;
const LINK = /\]\((?!https?:|mailto:|#)([^)\s#]+)(?:#([\w-]+))?\)/g;
const BARE = /§(\d+(?:\.\d+)?)/g;
const ABI_DOC = 'docs/abi.md';

function abiContext(file: string, text: string): boolean {
  return (
    file.startsWith('wasm/') ||
    file.startsWith('transforms/') ||
    file.startsWith('test/support/guests/') ||
    text.includes(ABI_DOC)
  );
}

export function findReferences(file: string, text: string): Reference[] {
  const refs: Reference[] = [];
  const bareAllowed = abiContext(file, text);
  const markdown = file.endsWith('.md');
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const at = i + 1;
    for (const m of line.matchAll(EXTERNAL)) {
      refs.push({ kind: 'external', line: at, text: m[0], path: m[0], relative: false });
    }
    /** Character ranges already read as part of a path reference (its § included). */
    const taken: Array<[number, number]> = [];
    for (const m of line.matchAll(PATH)) {
      taken.push([m.index, m.index + m[0].length]);
      const ref: Reference = { kind: 'path', line: at, text: m[0], path: m[1]!, relative: false };
      if (m[2] !== undefined) ref.anchor = m[2];
      if (m[3] !== undefined) ref.section = m[3];
      refs.push(ref);
    }
    if (markdown) {
      for (const m of line.matchAll(LINK)) {
        const ref: Reference = { kind: 'path', line: at, text: m[0], path: m[1]!, relative: true };
        if (m[2] !== undefined) ref.anchor = m[2];
        refs.push(ref);
      }
    }
    if (bareAllowed) {
      for (const m of line.matchAll(BARE)) {
        if (taken.some(([from, to]) => m.index >= from && m.index < to)) continue;
        refs.push({ kind: 'path', line: at, text: m[0], path: ABI_DOC, relative: false, section: m[1]! });
      }
    }
  }
  return refs;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

interface Heading {
  text: string;
  number: string | undefined;
  /** Numbers of the top-level ordered-list items in its body. */
  items: Set<string>;
}

export function docSections(markdown: string): DocSection {
  const headings: Heading[] = [];
  const anchors = new Set<string>();
  let fenced = false;
  let current: Heading | null = null;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    const h = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (h !== null) {
      const text = h[1]!;
      let anchor = slug(text);
      for (let n = 1; anchors.has(anchor); n++) anchor = `${slug(text)}-${n}`;
      anchors.add(anchor);
      current = { text, number: /^(\d+)[.)]?\s/.exec(text)?.[1], items: new Set() };
      headings.push(current);
      continue;
    }
    const item = /^(\d+)\.\s/.exec(line);
    if (item !== null && current !== null) current.items.add(item[1]!);
  }
  const bare = (text: string) => text.replace(/^\d+[.)]?\s+/, '').toLowerCase();
  return {
    anchors,
    has(section) {
      const quoted = /^"(.+)"$/.exec(section);
      if (quoted !== null) {
        const want = quoted[1]!.toLowerCase();
        return headings.some((x) => x.text.toLowerCase() === want || bare(x.text) === want);
      }
      const [num, item] = section.split('.');
      const heading = headings.find((x) => x.number === num);
      return heading !== undefined && (item === undefined || heading.items.has(item));
    },
  };
}
