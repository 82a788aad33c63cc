import { describe, expect, it } from 'vitest';
import { fixedChanges } from './config-reload.ts';
import { testConfig, testSink } from './testing/config.ts';

describe('fixedChanges', () => {
  const base = { routes: [{ topics: 'orders', sinks: [testSink('a')] }] };

  it('ignores the routes, which a reload applies', () => {
    const next = { routes: [{ topics: 'orders', sinks: [testSink('a'), testSink('b')] }] };
    expect(fixedChanges(testConfig(base), testConfig(next))).toEqual([]);
  });

  it('names every top-level setting that changed', () => {
    const next = { ...base, kafka: { groupId: 'other' }, listen: { port: 9999 } };
    expect(fixedChanges(testConfig(base), testConfig(next)).sort()).toEqual(['kafka', 'listen']);
  });
});
