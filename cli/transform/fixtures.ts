// `ferry transform test`: fixture records (transforms/<name>/fixtures/*.json) through the real built
// module in the broker-faithful host, one record per batch, each compared with what it should give:
// the outputs (topic, key, value, the headers named) or a dead letter (code and field).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diff } from 'node:util';
import * as v from 'valibot';
import { createTransformHost, type OutputRecord } from '../../wasm/index.ts';
import { CliError } from '../errors.ts';
import type { TransformProject } from './project.ts';

const json: v.GenericSchema<unknown> = v.unknown();
const headers = v.optional(v.record(v.string(), v.nullable(v.string())));

const outputSchema = v.strictObject({
  topic: v.optional(v.string()),
  key: v.optional(v.nullable(v.string())),
  value: v.optional(json),
  headers,
});

const caseSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1)),
  input: v.strictObject({
    key: v.optional(v.nullable(v.string())),
    /** An object or array is sent as its JSON text, a string as is, null as a tombstone. */
    value: v.optional(json),
    valueBase64: v.optional(v.string()),
    headers,
  }),
  expect: v.union([
    v.strictObject({ outputs: v.array(outputSchema) }),
    v.strictObject({ dlq: v.strictObject({ code: v.string(), field: v.optional(v.string()) }) }),
  ]),
});

export type FixtureCase = v.InferOutput<typeof caseSchema>;
export interface LoadedCase extends FixtureCase {
  /** `<file>#<index>` */
  readonly where: string;
}

export const FIXTURES_DIR = 'fixtures';

/** Every case of <dir>/fixtures/*.json (each file holds one case or an array of them), in file order. */
export async function loadFixtures(dir: string): Promise<LoadedCase[]> {
  const folder = join(dir, FIXTURES_DIR);
  let files: string[];
  try {
    files = (await readdir(folder)).filter((f) => f.endsWith('.json')).sort();
  } catch {
    throw new CliError(`${folder}: no such folder (fixture records go there as JSON files)`, 2);
  }
  if (files.length === 0) throw new CliError(`${folder}: no .json fixture files`, 2);
  const cases: LoadedCase[] = [];
  for (const file of files) {
    const path = join(folder, file);
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new CliError(`${path}: not valid JSON (${(error as Error).message})`, 2);
    }
    const list = Array.isArray(doc) ? doc : [doc];
    list.forEach((item, i) => {
      const parsed = v.safeParse(caseSchema, item);
      if (!parsed.success) {
        const issue = parsed.issues[0];
        const at = (issue.path ?? []).map((p) => String(p.key)).join('.') || '(case)';
        throw new CliError(`${FIXTURES_DIR}/${file}#${i}: ${at}: ${issue.message}`, 2);
      }
      cases.push({ ...parsed.output, where: `${FIXTURES_DIR}/${file}#${i}` });
    });
  }
  return cases;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string | null | undefined) => (s === null || s === undefined ? null : enc.encode(s));

function inputValue(c: FixtureCase): Uint8Array | null {
  if (c.input.valueBase64 !== undefined) return new Uint8Array(Buffer.from(c.input.valueBase64, 'base64'));
  const value = c.input.value;
  if (value === null || value === undefined) return null;
  return enc.encode(typeof value === 'string' ? value : JSON.stringify(value));
}

function headerMap(r: OutputRecord): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const h of r.headers) out[h.key] = h.value === null ? null : dec.decode(h.value);
  return out;
}

/** The DLQ topic: output topic 1 when deployed with two, else FERRY_DLQ_TOPIC (as the engine does). */
export function dlqTopicOf(project: TransformProject): string {
  return project.outputTopics[1] ?? project.env.FERRY_DLQ_TOPIC ?? 'dlq.transform';
}

/**
 * An output as the expectation states it: only the members the expectation names (headers too), the
 * value parsed as JSON when the expectation's value is not a string.
 */
function shape(r: OutputRecord, want: v.InferOutput<typeof outputSchema> | undefined) {
  const text = r.value === null ? null : dec.decode(r.value);
  let value: unknown = text;
  if (want !== undefined && typeof want.value !== 'string' && text !== null) {
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
  }
  const all = headerMap(r);
  const named = want?.headers === undefined ? all : {};
  for (const k of Object.keys(want?.headers ?? {})) if (k in all) named[k] = all[k]!;
  return {
    topic: r.topic,
    key: r.key === null ? null : dec.decode(r.key),
    ...(want === undefined || 'value' in want ? { value } : {}),
    headers: named,
  };
}

function expectedShape(project: TransformProject, c: FixtureCase): unknown {
  if ('dlq' in c.expect) return { dlq: c.expect.dlq };
  return c.expect.outputs.map((o) => ({
    topic: o.topic ?? project.outputTopics[0],
    key: o.key ?? null,
    ...('value' in o ? { value: o.value } : {}),
    headers: o.headers ?? {},
  }));
}

function actualShape(project: TransformProject, c: FixtureCase, outputs: readonly OutputRecord[]): unknown {
  if ('dlq' in c.expect) {
    const dlqTopic = dlqTopicOf(project);
    const [r] = outputs;
    if (outputs.length === 1 && r !== undefined && r.topic === dlqTopic) {
      const h = headerMap(r);
      const original = inputValue(c);
      const same =
        (r.value === null && original === null) ||
        (r.value !== null && original !== null && Buffer.from(r.value).equals(Buffer.from(original)));
      return {
        dlq: {
          code: h['ferry-error-code'] ?? '(no ferry-error-code header)',
          ...(c.expect.dlq.field === undefined ? {} : { field: h['ferry-error-field'] ?? '' }),
          ...(same ? {} : { value: '(the dead letter does not carry the original value)' }),
        },
      };
    }
    return outputs.map((o) => shape(o, { value: {} }));
  }
  const wanted = c.expect.outputs;
  return outputs.map((o, i) => shape(o, wanted[i]));
}

export interface CaseResult {
  readonly where: string;
  readonly name: string;
  readonly ok: boolean;
  /** Unified lines, `- expected` / `+ actual`, when it failed. */
  readonly diff: readonly string[];
}

const stable = (x: unknown) => JSON.stringify(x, null, 2);
const CONTEXT = 3;

/** `- expected` / `+ actual` lines with a few unchanged lines around each change, `...` between. */
export function unifiedLines(expected: string, actual: string): string[] {
  const ops = diff(expected.split('\n'), actual.split('\n'));
  const near = ops.map((_, i) =>
    ops.slice(Math.max(0, i - CONTEXT), i + CONTEXT + 1).some(([op]) => op !== 0),
  );
  const out: string[] = [];
  ops.forEach(([op, line], i) => {
    if (!near[i]) {
      if (out[out.length - 1] !== '  ...') out.push('  ...');
      return;
    }
    out.push(op === 0 ? `  ${line}` : op === 1 ? `- ${line}` : `+ ${line}`);
  });
  return out;
}

/** Runs every case through the module; never throws on a failed case (see each result). */
export async function runFixtures(
  module: Uint8Array,
  project: TransformProject,
  cases: readonly LoadedCase[],
  options: { onLog?: (level: string, line: string) => void; recordTimeoutMs?: number } = {},
): Promise<CaseResult[]> {
  const host = await createTransformHost({
    module,
    name: project.name,
    inputTopic: project.inputTopic,
    outputTopics: [...project.outputTopics],
    env: { ...project.env },
    onLog: options.onLog ?? (() => {}),
    pipelineDepth: 1,
    backoff: { initialMs: 10, maxMs: 100 },
    ...(options.recordTimeoutMs === undefined ? {} : { recordTimeoutMs: options.recordTimeoutMs }),
  });
  const results: CaseResult[] = [];
  try {
    let offset = 0n;
    for (const c of cases) {
      const recordOffset = offset++;
      let outputs: readonly OutputRecord[];
      try {
        ({ outputs } = await host.process({
          baseOffset: recordOffset,
          records: [
            {
              key: bytes(c.input.key),
              value: inputValue(c),
              headers: Object.entries(c.input.headers ?? {}).map(([key, value]) => ({
                key,
                value: bytes(value),
              })),
              offset: recordOffset,
              timestamp: 1_795_237_152_345,
            },
          ],
        }));
      } catch (error) {
        // A trap restarts the instance (and would retry the record forever in the broker): a failure.
        const reason = `the transform trapped: ${(error as Error).message.split('\n')[0]}`;
        results.push({ where: c.where, name: c.name, ok: false, diff: [`! ${reason}`] });
        continue;
      }
      const expected = stable(expectedShape(project, c));
      const actual = stable(actualShape(project, c, outputs));
      const ok = expected === actual;
      const lines = ok ? [] : unifiedLines(expected, actual);
      results.push({ where: c.where, name: c.name, ok, diff: lines });
    }
  } finally {
    await host.close();
  }
  return results;
}
