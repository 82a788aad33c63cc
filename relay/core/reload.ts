// What a config reload may change while the relay runs, and the plan for it: sinks are compared by id
// and by their whole options (and the topics of their route), so a sink whose options did not change
// keeps its lane, its breaker, its queued and in-flight records. Pure: relay.ts applies the plan.
import type { DedupeStore } from './contracts.ts';
import type { RelayOptions, SinkOptions } from './options.ts';

export type ReloadResult =
  | { readonly ok: true; readonly summary: ReloadSummary }
  | { readonly ok: false; readonly errors: readonly string[] };

export interface ReloadSummary {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
}

export type ReloadPlan =
  | {
      readonly ok: true;
      readonly added: readonly SinkOptions[];
      readonly changed: readonly SinkOptions[];
      readonly removed: readonly string[];
      readonly summary: ReloadSummary;
    }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Deep equality of plain option values (what the config loader produces: no functions, no cycles). */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

interface Placed {
  readonly sink: SinkOptions;
  readonly topics: readonly string[];
}

function sinksOf(options: RelayOptions): Map<string, Placed> {
  const out = new Map<string, Placed>();
  for (const route of options.routes)
    for (const sink of route.sinks) out.set(sink.id, { sink, topics: [...route.topics].sort() });
  return out;
}

export function planReload({
  current,
  next,
  subscribed,
  stores,
}: {
  readonly current: RelayOptions;
  readonly next: RelayOptions;
  /** Topics the source subscribed to at start. */
  readonly subscribed: ReadonlySet<string>;
  readonly stores: Readonly<Partial<Record<SinkOptions['dedupe']['store'], DedupeStore>>>;
}): ReloadPlan {
  const errors: string[] = [];
  for (const key of ['commitIntervalMs', 'revokeTimeoutMs', 'shutdownTimeoutMs'] as const)
    if (current[key] !== next[key])
      errors.push(`relay.${key}: cannot change while running (restart the relay)`);
  for (const route of next.routes)
    for (const topic of route.topics)
      if (!subscribed.has(topic))
        errors.push(
          `routes.${route.name}.topics: ${topic} is not among the topics the relay consumes (${[...subscribed].join(', ')}); a new topic needs a restart`,
        );
  const before = sinksOf(current);
  const after = sinksOf(next);
  for (const { sink } of after.values())
    if (sink.dedupe.enabled && !stores[sink.dedupe.store])
      errors.push(
        `sink ${sink.id}: dedupe store ${sink.dedupe.store} is not open in this relay; it needs a restart`,
      );
  if (errors.length > 0) return { ok: false, errors };

  const added: SinkOptions[] = [];
  const changed: SinkOptions[] = [];
  const unchanged: string[] = [];
  for (const [id, placed] of after) {
    const old = before.get(id);
    if (!old) added.push(placed.sink);
    else if (same(old.sink, placed.sink) && same(old.topics, placed.topics)) unchanged.push(id);
    else changed.push(placed.sink);
  }
  const removed = [...before.keys()].filter((id) => !after.has(id));
  return {
    ok: true,
    added,
    changed,
    removed,
    summary: {
      added: added.map((s) => s.id),
      removed,
      changed: changed.map((s) => s.id),
      unchanged,
    },
  };
}
