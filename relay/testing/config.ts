// Builds resolved relay options from a small config document, through the real config loader, so tests
// exercise the same defaults as the YAML file.

import type { RelayConfig } from '../config/load.ts';
import { resolveConfig } from '../config/load.ts';

export function testConfig(document: Record<string, unknown>, env: Record<string, string> = {}): RelayConfig {
  const result = resolveConfig(
    { commitInterval: '20ms', revokeTimeout: '2s', shutdownTimeout: '2s', ...document },
    env,
  );
  if (!result.ok) throw new Error(`bad test config:\n${result.errors.join('\n')}`);
  return result.config;
}

/** A sink with fast policies for tests. */
export function testSink(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    url: `http://127.0.0.1:1/${id}`,
    timeout: '1s',
    retry: { attempts: 3, backoffBase: '5ms', backoffCap: '20ms' },
    breaker: { threshold: 5, halfOpenAfter: '100ms' },
    dedupe: { store: 'memory', lease: '2s' },
    ...overrides,
  };
}
