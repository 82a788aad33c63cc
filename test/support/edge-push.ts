// Feeding a relay's POST /push/batches from the real Kafka in tests: records read with readTopic become
// push records (key, the value's exact text, headers), split into batches per partition, and pushed
// again until the relay answers 200 (a 202 timeout, a 429, a 503 or a dropped connection is re-pushed,
// as a forwarder does: the push is idempotent by position and by dedupe).
import { createWebhookSigner } from '../../relay/core/webhook-signing.ts';
import type { TopicRecord } from './kafka.ts';

export interface PushRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key?: string;
  readonly valueText?: string;
  readonly headers?: Record<string, string>;
}

export interface PushAnswer {
  /** HTTP status, or 0 when the connection failed. */
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export function toPushRecord(r: TopicRecord): PushRecord {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: Number(r.offset),
    ...(r.key === undefined ? {} : { key: r.key }),
    ...(r.value === undefined ? {} : { valueText: r.value }),
    headers: Object.fromEntries(r.headers),
  };
}

/** Batches of at most `size` records, each of one partition, in offset order. */
export function partitionBatches(records: readonly PushRecord[], size: number): PushRecord[][] {
  const byPartition = new Map<string, PushRecord[]>();
  for (const r of records) {
    const k = `${r.topic}/${r.partition}`;
    byPartition.set(k, [...(byPartition.get(k) ?? []), r]);
  }
  const out: PushRecord[][] = [];
  for (const list of byPartition.values()) {
    list.sort((a, b) => a.offset - b.offset);
    for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  }
  return out;
}

export async function pushBatch(
  url: string,
  token: string,
  records: readonly unknown[],
  /** Signs the push (Standard Webhooks) for a relay with `push.signingSecret`. */
  signingSecret?: string,
): Promise<PushAnswer> {
  try {
    const payload = JSON.stringify({ records });
    const signature = signingSecret
      ? await createWebhookSigner(signingSecret).sign(
          `push-${crypto.randomUUID()}`,
          Math.floor(Date.now() / 1000),
          payload,
        )
      : {};
    const res = await fetch(`${url}/push/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...signature },
      body: payload,
    });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: res.status, body };
  } catch (e) {
    return { status: 0, body: { error: e instanceof Error ? e.message : String(e) } };
  }
}

/** Pushes until 200; returns every answer seen (the last is the 200). Throws after `timeoutMs`. */
export async function pushUntilCommitted(
  url: () => string,
  token: string,
  records: readonly unknown[],
  { timeoutMs = 60_000, pauseMs = 200 } = {},
): Promise<PushAnswer[]> {
  const answers: PushAnswer[] = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const answer = await pushBatch(url(), token, records);
    answers.push(answer);
    if (answer.status === 200) return answers;
    if (answer.status !== 0 && ![202, 429, 503].includes(answer.status))
      throw new Error(`push answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    if (Date.now() > end)
      throw new Error(`push not committed within ${timeoutMs} ms: ${JSON.stringify(answers.slice(-3))}`);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}
