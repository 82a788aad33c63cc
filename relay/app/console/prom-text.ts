// Reads the samples of a Prometheus text exposition (0.0.4) back, so the console shows the same numbers
// `/metrics` serves, whatever registry produced them. Comments and malformed lines are skipped.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/y;

const unescapeLabel = (v: string) => v.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch));

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = Object.create(null);
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m) return undefined;
    labels[m[1] as string] = unescapeLabel(m[2] as string);
  }
  return labels;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** The samples whose metric name is in `names` (every sample when `names` is omitted). */
export function parsePrometheusText(text: string, names?: ReadonlySet<string>): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const name = m[1] as string;
    if (names && !names.has(name)) continue;
    const labels = m[2] === undefined ? {} : parseLabels(m[2]);
    const value = parseValue(m[3] as string);
    if (labels === undefined || Number.isNaN(value)) continue;
    samples.push({ name, labels, value });
  }
  return samples;
}
