import { describe, expect, it } from 'vitest';
import { testConfig, testSink } from '../testing/config.ts';
import { configAccess, urlAddress } from './access.ts';

describe('configAccess', () => {
  it('lists the listen address, brokers, the dedupe stores in use and each sink origin, once each', () => {
    const config = testConfig({
      listen: { port: 8787, host: '0.0.0.0' },
      kafka: { brokers: ['10.0.0.1:9092', '10.0.0.2:9092'] },
      redis: { url: 'redis://cache.internal' },
      upstash: { url: 'https://eu1.upstash.io', token: 't' },
      routes: [
        {
          topics: ['a'],
          sinks: [
            testSink('billing', { url: 'https://api.example.com/v1/{key}', dedupe: { store: 'redis' } }),
            testSink('audit', { url: 'http://[::1]:4010/audit', dedupe: { store: 'upstash' } }),
          ],
        },
        { topics: ['b'], sinks: [testSink('again', { url: 'https://api.example.com/v2' })] },
      ],
    });
    expect(configAccess(config, '/etc/ferry/relay.yaml')).toEqual([
      { kind: 'read', value: '/etc/ferry/relay.yaml', for: 'the config file' },
      { kind: 'net', value: '0.0.0.0:8787', for: 'listen' },
      { kind: 'net', value: '10.0.0.1:9092', for: 'kafka.brokers[0]' },
      { kind: 'net', value: '10.0.0.2:9092', for: 'kafka.brokers[1]' },
      { kind: 'net', value: 'cache.internal:6379', for: 'redis.url' },
      { kind: 'net', value: 'eu1.upstash.io:443', for: 'upstash.url' },
      { kind: 'net', value: 'api.example.com:443', for: 'routes[0].sinks[0].url (billing)' },
      { kind: 'net', value: '[::1]:4010', for: 'routes[0].sinks[1].url (audit)' },
    ]);
  });

  it('leaves out Redis when no sink dedupes through it; a listen on any free port is host:0', () => {
    const config = testConfig({
      listen: { port: 0, host: '127.0.0.1' },
      routes: [{ topics: ['a'], sinks: [testSink('s', { url: 'http://127.0.0.1:18080/s' })] }],
    });
    expect(configAccess(config).map((a) => a.value)).toEqual([
      '127.0.0.1:0',
      '127.0.0.1:19092',
      '127.0.0.1:18080',
    ]);
  });
});

describe('urlAddress', () => {
  it('adds the scheme default port and keeps IPv6 brackets', () => {
    expect(urlAddress('https://a.example')).toBe('a.example:443');
    expect(urlAddress('http://a.example/x')).toBe('a.example:80');
    expect(urlAddress('rediss://:pw@r.example')).toBe('r.example:6379');
    expect(urlAddress('http://[::1]:81/')).toBe('[::1]:81');
    expect(urlAddress('not a url')).toBeUndefined();
  });
});
