// The transform's environment (docs/abi.md §9): REDPANDA_INPUT_TOPIC, REDPANDA_OUTPUT_TOPIC_<n> in
// declared order (index 0 is the default output) and the user variables from deploy.
import { readEnviron } from './wasi';

let cache: Map<string, string> | null = null;

function environ(): Map<string, string> {
  let m = cache;
  if (m === null) {
    m = new Map<string, string>();
    const entries = readEnviron();
    for (let i = 0; i < entries.length; i++) {
      const e = unchecked(entries[i]);
      const eq = e.indexOf('=');
      if (eq <= 0) continue;
      m.set(e.substring(0, eq), e.substring(eq + 1));
    }
    cache = m;
  }
  return m;
}

/** A variable's value, or `fallback` when it is not set. */
export function getEnv(name: string, fallback: string | null = null): string | null {
  const m = environ();
  return m.has(name) ? m.get(name) : fallback;
}

export function inputTopic(): string | null {
  return getEnv('REDPANDA_INPUT_TOPIC');
}

/** Output topic n (0 = default), or null when the transform has fewer outputs. */
export function outputTopic(n: i32): string | null {
  return getEnv('REDPANDA_OUTPUT_TOPIC_' + n.toString());
}
