// The metric names a PromQL expression reads, from a small tokenizer: strings, label matchers ({...}),
// range and subquery brackets ([...]), grouping lists (by/without/on/ignoring/group_left/group_right
// (...)), function names (an identifier before "(", or an aggregation before by/without), keywords and numbers are not metric names; every
// other identifier is. Grafana's variables ($x, ${x}, $__rate_interval) are dropped first.
// `label_values(metric, label)` (a Grafana variable query) yields its metric only.

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

type Token = { kind: 'ident' | 'punct'; text: string };

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  const text = expr.replace(/\$\{[^}]*\}|\$[A-Za-z_]\w*/g, ' ');
  let i = 0;
  let braces = 0;
  let brackets = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"' || ch === "'" || ch === '`') {
      const end = text.indexOf(ch, i + 1);
      let j = i + 1;
      while (j < text.length && text[j] !== ch) j += text[j] === '\\' ? 2 : 1;
      i = (end === -1 ? text.length : j) + 1;
      continue;
    }
    if (ch === '#') {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl;
      continue;
    }
    if (ch === '{') braces++;
    else if (ch === '}') braces--;
    else if (ch === '[') brackets++;
    else if (ch === ']') brackets--;
    const ident = /^[A-Za-z_:][\w:]*/.exec(text.slice(i));
    if (ident) {
      if (braces === 0 && brackets === 0) tokens.push({ kind: 'ident', text: ident[0] });
      i += ident[0].length;
      continue;
    }
    // Numbers and durations (1h30m, 500ms).
    const number = /^(?:(?:\d+(?:ms|[smhdwy]))+|0x[\da-f]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?)/i.exec(text.slice(i));
    if (number) {
      i += number[0].length;
      continue;
    }
    if (!/\s/.test(ch) && braces === 0 && brackets === 0) tokens.push({ kind: 'punct', text: ch });
    i++;
  }
  return tokens;
}

export function metricNames(expr: string): Set<string> {
  const labelValues = /^\s*label_values\(\s*([A-Za-z_:][\w:]*)\s*,/.exec(expr);
  if (labelValues) return new Set([labelValues[1] as string]);
  const tokens = tokenize(expr);
  const names = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== 'ident') continue;
    const next = tokens[i + 1];
    if (GROUPING.has(t.text.toLowerCase())) {
      // Skip the label list that follows, if any.
      if (next?.text === '(') {
        let depth = 0;
        for (i = i + 1; i < tokens.length; i++) {
          const x = (tokens[i] as Token).text;
          if (x === '(') depth++;
          else if (x === ')' && --depth === 0) break;
        }
      }
      continue;
    }
    if (KEYWORDS.has(t.text.toLowerCase())) continue;
    if (next?.text === '(') continue; // a function
    if (next?.kind === 'ident' && /^(by|without)$/i.test(next.text)) continue; // `sum by (x) (...)`
    names.add(t.text);
  }
  return names;
}
