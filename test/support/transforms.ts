// Shared helpers for the transform tests: build the .wasm once per source change (wasm/build caches
// by a hash of the sources), read the fixture corpus, and run records through the real host.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildTransformsOrThrow } from '../../wasm/build/index.ts';
import { createTransformHost } from '../../wasm/host/index.ts';
import type { OutputRecord, TransformHost } from '../../wasm/host/types.ts';

export type Entity = 'shipments' | 'trailers' | 'loads';
export const ENTITY_NAMES: readonly Entity[] = ['shipments', 'trailers', 'loads'];
export const DLQ_TOPIC = 'dlq.transform';

const built = new Map<string, Promise<Uint8Array>>();

/** The module's bytes, compiled (or taken from the build cache) and checked as the broker would. */
export function transformModule(name: string): Promise<Uint8Array> {
  let p = built.get(name);
  if (p === undefined) {
    p = buildTransformsOrThrow({ names: [name] }).then(async ([r]) => {
      if (!r?.ok) throw new Error(`build of ${name} failed`);
      return new Uint8Array(await readFile(r.wasmPath));
    });
    built.set(name, p);
  }
  return p;
}

/** A host running transforms/<entity> with the topics rpk deploys it with (transform.yaml). */
export async function startEntityTransform(
  entity: Entity,
  options: { onLog?: (level: string, line: string) => void } = {},
): Promise<TransformHost> {
  return createTransformHost({
    module: await transformModule(entity),
    name: entity,
    inputTopic: `cdc.public.${entity}`,
    outputTopics: [`clean.${entity}`, DLQ_TOPIC],
    onLog: options.onLog ?? (() => {}),
  });
}

export interface CorpusCase {
  readonly name: string;
  readonly entity: Entity;
  readonly key: string | null;
  readonly value?: string | null;
  readonly valueBase64?: string;
  readonly expand?: ReadonlyArray<{ token: string; text: string; count: number }>;
  readonly headers?: ReadonlyArray<{ key: string; value: string | null }>;
  readonly expect: { verdict: 'clean' | 'dlq' | 'drop'; code?: string; field?: string };
  readonly event?: Record<string, unknown>;
}

const CORPUS_DIR = join(import.meta.dirname, '..', 'fixtures', 'corpus');

export function loadCorpus(entity: Entity): CorpusCase[] {
  return readFileSync(join(CORPUS_DIR, `${entity}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as CorpusCase);
}

const enc = new TextEncoder();

/** The record value bytes of a corpus case (null = tombstone). */
export function caseValue(c: CorpusCase): Uint8Array | null {
  if (c.valueBase64 !== undefined) return new Uint8Array(Buffer.from(c.valueBase64, 'base64'));
  if (c.value === null || c.value === undefined) return null;
  let text = c.value;
  for (const e of c.expand ?? []) text = text.replace(e.token, e.text.repeat(e.count));
  return enc.encode(text);
}

export function caseHeaders(c: CorpusCase): Array<{ key: string; value: Uint8Array | null }> {
  return (c.headers ?? []).map((h) => ({ key: h.key, value: h.value === null ? null : enc.encode(h.value) }));
}

export type WasmVerdict =
  | { verdict: 'clean'; key: string; eventId: string; schema: string; event: unknown; record: OutputRecord }
  | { verdict: 'dlq'; code: string; field: string; message: string; record: OutputRecord }
  | { verdict: 'drop' };

const dec = new TextDecoder();
export const headerText = (r: OutputRecord, key: string): string | undefined => {
  const h = r.headers.find((x) => x.key === key);
  return h === undefined ? undefined : h.value === null ? '' : dec.decode(h.value);
};

/** What the transform decided for one input record, read from its outputs. */
export function verdictOf(outputs: readonly OutputRecord[]): WasmVerdict {
  if (outputs.length === 0) return { verdict: 'drop' };
  if (outputs.length !== 1) throw new Error(`expected one output per record, got ${outputs.length}`);
  const r = outputs[0]!;
  if (r.topic === DLQ_TOPIC) {
    return {
      verdict: 'dlq',
      code: headerText(r, 'ferry-error-code') ?? '',
      field: headerText(r, 'ferry-error-field') ?? '',
      message: headerText(r, 'ferry-error-message') ?? '',
      record: r,
    };
  }
  return {
    verdict: 'clean',
    key: r.key === null ? '' : dec.decode(r.key),
    eventId: headerText(r, 'ferry-event-id') ?? '',
    schema: headerText(r, 'ferry-schema') ?? '',
    event: JSON.parse(dec.decode(r.value ?? new Uint8Array())),
    record: r,
  };
}

/** Sends one record (its own batch) through the host and returns the transform's verdict. */
export async function runRecord(
  host: TransformHost,
  offset: bigint,
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: Array<{ key: string; value: Uint8Array | null }> = [],
): Promise<WasmVerdict> {
  const { outputs } = await host.process({
    baseOffset: offset,
    records: [{ key, value, headers, offset, timestamp: 1_795_237_152_345 }],
  });
  return verdictOf(outputs);
}
