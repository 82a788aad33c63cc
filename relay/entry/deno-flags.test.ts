// The least-permission command relay:flags prints, and the deno.json tasks it sits beside: no task runs
// with all permissions, and the relay task's V8 limits are the ones relay:flags prints.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configAccess } from '../config/access.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { RELAY_V8_FLAGS, relayRunArgs } from './deno-flags.ts';

const denoJson = JSON.parse(readFileSync(new URL('../../deno.json', import.meta.url), 'utf8')) as {
  tasks: Record<string, string | { command: string }>;
};
const tasks = Object.entries(denoJson.tasks).map(
  ([name, t]) => [name, typeof t === 'string' ? t : t.command] as const,
);

describe('relayRunArgs', () => {
  it("grants the config's addresses, its files and the Wasm file, FERRY_* and the variables it read", () => {
    const config = testConfig({
      listen: { port: 8787, host: '0.0.0.0' },
      kafka: { brokers: ['k1:9092'], tls: false },
      routes: [{ topics: ['a'], sinks: [testSink('s', { url: 'https://api.example.com/x' })] }],
    });
    const args = relayRunArgs({
      configPath: '/etc/ferry/relay.yaml',
      access: configAccess(config, '/etc/ferry/relay.yaml'),
      envNames: ['FERRY_ADMIN_TOKEN', 'SINK_TOKEN', 'FERRY_LOG', 'API_KEY', 'SINK_TOKEN'],
      wasmPath: '/app/node_modules/@platformatic/wasm-utils/dist/native.wasm',
      entry: '/app/relay/entry/deno.ts',
    });
    expect(args).toEqual([
      'run',
      '--allow-net=0.0.0.0:8787,k1:9092,api.example.com:443',
      '--allow-read=/etc/ferry/relay.yaml,/app/node_modules/@platformatic/wasm-utils/dist/native.wasm',
      '--allow-env=FERRY_*,API_KEY,SINK_TOKEN',
      RELAY_V8_FLAGS,
      '/app/relay/entry/deno.ts',
      '--config',
      '/etc/ferry/relay.yaml',
    ]);
  });
});

describe('deno.json tasks', () => {
  it('never run with all permissions', () => {
    expect(tasks.length).toBeGreaterThan(0);
    for (const [name, command] of tasks) {
      expect(command, name).not.toMatch(/(^|\s)(-A|--allow-all)(\s|$)/);
      // A bare --allow-net / --allow-env (everything) only where the task reads and prints, never runs a server.
      if (name !== 'relay:flags') expect(command, name).not.toMatch(/--allow-(net|env|read)(\s|$)/);
    }
  });

  it('run the relay with the V8 limits relay:flags prints', () => {
    const relay = tasks.find(([name]) => name === 'relay')?.[1];
    expect(relay).toContain(` ${RELAY_V8_FLAGS} relay/entry/deno.ts`);
  });
});
