// The verdict the supply-chain transform gives one CDC record, computed in TypeScript from the same
// rules (valibot schemas) in the same order as transforms/supply-chain/engine.ts. The shared
// fixture corpus checks that both agree record by record; it is also the reference output for
// the transform's golden tests and the plain-TypeScript side of the benchmark.
import * as v from 'valibot';
import { type ErrorCode, MAX_DEPTH } from './codes.ts';
import { envelopeHeadSchema, isPlainObject } from './debezium.ts';
import type { EntityContract } from './entity.ts';
import { cleanData, rowSchema } from './fields.ts';

export type Verdict =
  | {
      readonly verdict: 'clean';
      readonly key: string;
      readonly eventId: string;
      readonly event: Record<string, unknown>;
    }
  | { readonly verdict: 'dlq'; readonly code: ErrorCode; readonly field: string; readonly message: string }
  | { readonly verdict: 'drop'; readonly code: 'tombstone' };

const OP_NAMES: Readonly<Record<string, string>> = {
  c: 'created',
  u: 'updated',
  d: 'deleted',
  r: 'snapshot',
};

function depthOf(root: unknown, limit: number): number {
  // Iterative, so hostile nesting cannot overflow the stack; stops counting past the limit.
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d > deepest) deepest = d;
    if (deepest > limit) return deepest;
    for (const child of Object.values(x))
      if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return deepest;
}

const dlq = (code: ErrorCode, field: string, message: string): Verdict => ({
  verdict: 'dlq',
  code,
  field,
  message,
});

function firstIssue(issues: readonly v.BaseIssue<unknown>[], prefix: string): Verdict {
  const issue = issues[0]!;
  const path = [prefix, ...(issue.path ?? []).map((p) => String(p.key))].filter((s) => s !== '').join('.');
  const missing = issue.input === undefined || issue.input === null;
  const code = (missing ? 'missing_field' : issue.message) as ErrorCode;
  return dlq(code, path, missing ? `${path} is required` : `${path}: ${code}`);
}

interface Compiled {
  readonly head: ReturnType<typeof envelopeHeadSchema>;
  readonly row: ReturnType<typeof rowSchema>;
  readonly keyOnly: ReturnType<typeof rowSchema>;
}
const compiled = new WeakMap<EntityContract, Compiled>();

function schemasOf(c: EntityContract): Compiled {
  let s = compiled.get(c);
  if (s === undefined) {
    s = {
      head: envelopeHeadSchema(c.table),
      row: rowSchema(c.fields),
      keyOnly: rowSchema(c.fields.slice(0, 1)),
    };
    compiled.set(c, s);
  }
  return s;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const EARLY = { abortEarly: true } as const;

/** The verdict for one record value (null = tombstone). Never throws on any input. */
export function judgeChange(c: EntityContract, value: Uint8Array | null): Verdict {
  if (value === null) return { verdict: 'drop', code: 'tombstone' };
  let text: string;
  try {
    text = decoder.decode(value);
  } catch {
    return dlq('invalid_utf8', '', 'the value is not valid UTF-8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return dlq('invalid_json', '', 'the value is not valid JSON');
  }
  if (depthOf(doc, MAX_DEPTH) > MAX_DEPTH)
    return dlq('too_deep', '', 'the value nests deeper than 32 levels');
  if (!isPlainObject(doc)) return dlq('not_an_object', '', 'the value must be a JSON object');

  const s = schemasOf(c);
  const head = v.safeParse(s.head, doc, EARLY);
  if (!head.success) return firstIssue(head.issues, '');
  const { op, source } = head.output;
  const isDelete = op === 'd';
  const imageKey = isDelete ? 'before' : 'after';
  const image = doc[imageKey];
  if (image === undefined || image === null) return dlq('missing_field', imageKey, `${imageKey} is required`);
  if (!isPlainObject(image)) return dlq('wrong_type', imageKey, `${imageKey} must be an object`);
  const row = v.safeParse(isDelete ? s.keyOnly : s.row, image, EARLY);
  if (!row.success) return firstIssue(row.issues, imageKey);
  const after = row.output as Record<string, unknown>;

  let previousStatus: string | null = null;
  const before = doc.before;
  if (op === 'u' && isPlainObject(before)) {
    const from = before[c.statusField];
    const statuses = c.fields.find((f) => f.name === c.statusField)?.values ?? [];
    if (typeof from === 'string' && statuses.includes(from)) {
      previousStatus = from;
      const to = after[c.statusField] as string;
      if (from !== to && !(c.transitions[from] ?? []).includes(to)) {
        return dlq(
          'illegal_transition',
          `after.${c.statusField}`,
          `status cannot change from ${from} to ${to}`,
        );
      }
    }
  }

  const id = after[c.fields[0]!.name] as number; // the first field is the row's key (kind id)
  const eventId = `pg:${c.table}:${source.lsn}:${id}`;
  const event = {
    eventId,
    schema: c.schema,
    entity: c.entity,
    op: OP_NAMES[op],
    id,
    lsn: source.lsn,
    occurredAt: new Date(source.ts_ms).toISOString(),
    data: isDelete ? null : cleanData(c.fields, after),
    previousStatus,
  };
  return { verdict: 'clean', key: String(id), eventId, event };
}
