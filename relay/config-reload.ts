// A relay config reload (SIGHUP or POST /v1/config/reload): the file is read and validated again, and
// only its routes and sinks are applied to the running relay (core/reload.ts has those rules).
// Everything else — Kafka, dedupe stores, listen address, tokens, the push source, the HTTP client —
// was used to open connections at start, so a change there is refused with the list of what changed,
// and the old config keeps running.
import type { RelayConfig } from './config/load.ts';
import type { HttpSender } from './core/contracts.ts';
import type { SinkOptions } from './core/options.ts';
import type { Relay, ReloadResult } from './core/relay.ts';

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'undefined';
}

/** Names of the restart-only settings (everything outside `relay`) that differ between two configs. */
export function fixedChanges(current: RelayConfig, next: RelayConfig): string[] {
  const a = current as unknown as Record<string, unknown>;
  const b = next as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== 'relay');
  return keys.filter((key) => canonical(a[key]) !== canonical(b[key]));
}

export type ConfigReader = () => Promise<
  | { readonly ok: true; readonly config: RelayConfig }
  | { readonly ok: false; readonly errors: readonly string[] }
>;

export interface ConfigReloader {
  /** Reads the config again and applies its routes; the config in force after a success is the new one. */
  reload(): Promise<ReloadResult>;
}

export function createConfigReloader({
  initial,
  read,
  relay,
  createSender,
}: {
  readonly initial: RelayConfig;
  readonly read: ConfigReader;
  readonly relay: Relay;
  readonly createSender: (sink: SinkOptions, config: RelayConfig) => HttpSender;
}): ConfigReloader {
  let current = initial;
  // One reload at a time: a second SIGHUP while one runs waits for it, then reads the file again.
  let chain: Promise<unknown> = Promise.resolve();
  const once = async (): Promise<ReloadResult> => {
    const read_ = await read();
    if (!read_.ok) return { ok: false, errors: read_.errors };
    const next = read_.config;
    const fixed = fixedChanges(current, next);
    if (fixed.length > 0)
      return {
        ok: false,
        errors: fixed.map((key) => `${key}: cannot change while running (restart the relay to apply it)`),
      };
    const result = relay.reload(next.relay, (sink) => createSender(sink, next));
    if (result.ok) current = next;
    return result;
  };
  return {
    reload() {
      const run = chain.then(once, once);
      chain = run.catch(() => undefined);
      return run;
    },
  };
}
