// The idempotent-API model behind one mock endpoint: records every request, applies each
// idempotency key once (on a 2xx answer), counts replays separately, and checks per-key order.

export interface RecordedRequest {
  readonly seq: number;
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Omitted when the endpoint records without bodies (benchmarks). */
  readonly body?: string;
  readonly idempotencyKey: string | null;
  /** The HTTP status answered, or what happened instead. */
  readonly outcome: number | 'reset' | 'hang' | 'down';
}

export interface OrderOptions {
  /** Header carrying the ordering key (checked first). */
  readonly keyHeader?: string;
  /** Header carrying the sequence number within the key. */
  readonly seqHeader?: string;
  /** Dotted path into a JSON body for the ordering key / sequence when the headers are absent. */
  readonly keyField?: string;
  readonly seqField?: string;
}

export interface LedgerOptions {
  readonly idempotencyHeaders?: readonly string[];
  readonly recordBodies?: boolean;
  readonly order?: OrderOptions;
  /** JSON body field holding the producer's timestamp (ms); arrival minus it goes to `latencies`. */
  readonly latencyField?: string;
}

export interface EndpointReport {
  readonly endpoint: string;
  readonly received: number;
  readonly byOutcome: Readonly<Record<string, number>>;
  /** Distinct idempotency keys applied (first 2xx). */
  readonly applied: number;
  /** 2xx answers for keys that were already applied: duplicates on the wire, harmless to the API. */
  readonly replays: number;
  /**
   * The same logical event (ordering key + sequence) applied under two different idempotency keys:
   * what a broken idempotency key would cost a real API. Must be 0.
   */
  readonly duplicateApplications: number;
  /** Keys seen more than once on the wire (any outcome), with their counts; at most 100 listed. */
  readonly duplicateKeys: ReadonlyArray<{ readonly key: string; readonly count: number }>;
  readonly duplicateKeyCount: number;
  readonly withoutKey: number;
  /** Applications whose sequence was lower than an earlier one for the same ordering key. */
  readonly orderViolations: number;
  readonly orderViolationSamples: ReadonlyArray<{
    readonly key: string;
    readonly after: number;
    readonly got: number;
  }>;
  readonly orderKeys: number;
}

const DEFAULT_IDEMPOTENCY_HEADERS = ['idempotency-key', 'webhook-id', 'ferry-event-id'] as const;

function pick(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export class Ledger {
  readonly endpoint: string;
  readonly requests: RecordedRequest[] = [];
  readonly appliedKeys: string[] = [];
  /** Produce-to-arrival latencies (ms) of applied requests, when `latencyField` is set. */
  readonly latencies: number[] = [];
  #options: Required<Pick<LedgerOptions, 'recordBodies'>> & LedgerOptions;
  #applied = new Set<string>();
  #seen = new Map<string, number>();
  #byOutcome: Record<string, number> = {};
  #replays = 0;
  #withoutKey = 0;
  #lastSeq = new Map<string, number>();
  #orderViolations = 0;
  #orderSamples: Array<{ key: string; after: number; got: number }> = [];
  #appliedEvents = new Set<string>();
  #duplicateApplications = 0;
  #seq = 0;

  constructor(endpoint: string, options: LedgerOptions = {}) {
    this.endpoint = endpoint;
    this.#options = { recordBodies: true, ...options };
  }

  configure(options: LedgerOptions): void {
    this.#options = { ...this.#options, ...options };
  }

  idempotencyKeyOf(headers: Readonly<Record<string, string | string[] | undefined>>): string | null {
    for (const name of this.#options.idempotencyHeaders ?? DEFAULT_IDEMPOTENCY_HEADERS) {
      const v = headers[name];
      if (typeof v === 'string' && v !== '') return v;
    }
    return null;
  }

  /** Records one request and, on a 2xx, applies its key. Returns whether it was a fresh application. */
  record(
    method: string,
    path: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: string,
    outcome: RecordedRequest['outcome'],
    at = Date.now(),
  ): boolean {
    const idempotencyKey = this.idempotencyKeyOf(headers);
    const entry: RecordedRequest = this.#options.recordBodies
      ? { seq: this.#seq++, at, method, path, headers, body, idempotencyKey, outcome }
      : { seq: this.#seq++, at, method, path, headers, idempotencyKey, outcome };
    this.requests.push(entry);
    const label = String(outcome);
    this.#byOutcome[label] = (this.#byOutcome[label] ?? 0) + 1;
    if (idempotencyKey === null) {
      this.#withoutKey += 1;
    } else {
      this.#seen.set(idempotencyKey, (this.#seen.get(idempotencyKey) ?? 0) + 1);
    }
    const ok = typeof outcome === 'number' && outcome >= 200 && outcome < 300;
    if (!ok) return false;
    if (idempotencyKey !== null) {
      if (this.#applied.has(idempotencyKey)) {
        this.#replays += 1;
        return false;
      }
      this.#applied.add(idempotencyKey);
      this.appliedKeys.push(idempotencyKey);
    }
    this.#checkOrder(headers, body, at);
    return true;
  }

  #checkOrder(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: string,
    at: number,
  ): void {
    const order = this.#options.order ?? {};
    const latencyField = this.#options.latencyField;
    const keyHeader = order.keyHeader ?? 'x-order-key';
    const seqHeader = order.seqHeader ?? 'x-order-seq';
    let key: unknown = headers[keyHeader];
    let seq: unknown = headers[seqHeader];
    if ((key === undefined || seq === undefined) && body !== '' && body.charCodeAt(0) === 123 /* { */) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return;
      }
      key ??= pick(parsed, order.keyField ?? 'key');
      seq ??= pick(parsed, order.seqField ?? 'seq');
      if (latencyField !== undefined) {
        const produced = Number(pick(parsed, latencyField));
        if (Number.isFinite(produced)) this.latencies.push(at - produced);
      }
    }
    if ((typeof key !== 'string' && typeof key !== 'number') || seq === undefined) return;
    const n = Number(seq);
    if (!Number.isFinite(n)) return;
    const k = String(key);
    const eventId = k + '#' + n;
    if (this.#appliedEvents.has(eventId)) this.#duplicateApplications += 1;
    else this.#appliedEvents.add(eventId);
    const last = this.#lastSeq.get(k);
    if (last !== undefined && n < last) {
      this.#orderViolations += 1;
      if (this.#orderSamples.length < 100) this.#orderSamples.push({ key: k, after: last, got: n });
    }
    if (last === undefined || n > last) this.#lastSeq.set(k, n);
  }

  report(): EndpointReport {
    const duplicateKeys: Array<{ key: string; count: number }> = [];
    let duplicateKeyCount = 0;
    for (const [key, count] of this.#seen) {
      if (count > 1) {
        duplicateKeyCount += 1;
        if (duplicateKeys.length < 100) duplicateKeys.push({ key, count });
      }
    }
    return {
      endpoint: this.endpoint,
      received: this.requests.length,
      byOutcome: { ...this.#byOutcome },
      applied: this.#applied.size,
      replays: this.#replays,
      duplicateApplications: this.#duplicateApplications,
      duplicateKeys,
      duplicateKeyCount,
      withoutKey: this.#withoutKey,
      orderViolations: this.#orderViolations,
      orderViolationSamples: [...this.#orderSamples],
      orderKeys: this.#lastSeq.size,
    };
  }

  reset(): void {
    this.requests.length = 0;
    this.appliedKeys.length = 0;
    this.latencies.length = 0;
    this.#applied.clear();
    this.#seen.clear();
    this.#byOutcome = {};
    this.#replays = 0;
    this.#withoutKey = 0;
    this.#lastSeq.clear();
    this.#orderViolations = 0;
    this.#orderSamples = [];
    this.#appliedEvents.clear();
    this.#duplicateApplications = 0;
    this.#seq = 0;
  }
}
