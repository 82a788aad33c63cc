// The permission logic against a stand-in for Deno's permission API (a set of granted descriptors);
// the real Deno refusing a host or a file is proven by test/integration/relay-deno-permissions.test.ts.
import { describe, expect, it } from 'vitest';
import { testConfig, testSink } from '../testing/config.ts';
import { checkDenoPermissions, type DenoPermissionsApi, permittedEnv } from './deno-permissions.ts';

function fakeDeno(granted: string[], vars: Record<string, string>): DenoPermissionsApi {
  return {
    env: { get: (name) => vars[name] },
    permissions: {
      querySync: (d) => {
        const key =
          d.name === 'env' ? `env ${d.variable}` : d.name === 'net' ? `net ${d.host}` : `read ${d.path}`;
        return { state: granted.includes(key) ? 'granted' : 'prompt' };
      },
    },
  };
}

describe('permittedEnv', () => {
  it('reads granted variables, reads others as unset and remembers them, never throws', () => {
    const { env, denied } = permittedEnv(fakeDeno(['env FERRY_A'], { FERRY_A: '1', SECRET: 's' }));
    expect(env.FERRY_A).toBe('1');
    expect(env.SECRET).toBeUndefined();
    expect('SECRET' in env).toBe(false);
    expect([...denied]).toEqual(['SECRET']);
    // Listing needs the whole environment: only what this process set is listed.
    expect(Object.keys(env)).toEqual([]);
    // As process.env: what a package sets is kept in this process.
    const writable = env as Record<string, string | undefined>;
    writable.DEBUG = 'x';
    expect(env.DEBUG).toBe('x');
    expect(Object.keys(env)).toEqual(['DEBUG']);
    delete writable.DEBUG;
    expect(env.DEBUG).toBeUndefined();
    expect(Object.keys(env)).toEqual([]);
  });
});

describe('checkDenoPermissions', () => {
  const config = testConfig({
    listen: { port: 0, host: '127.0.0.1' },
    routes: [{ topics: ['a'], sinks: [testSink('far', { url: 'https://api.example.com/x' })] }],
  });

  it('passes when every address is granted', () => {
    const deno = fakeDeno(['net 127.0.0.1:0', 'net 127.0.0.1:19092', 'net api.example.com:443'], {});
    expect(checkDenoPermissions(deno, config, new Set())).toEqual({ errors: [], warnings: [] });
  });

  it('names the setting whose host is not granted, and how to get the flags', () => {
    const deno = fakeDeno(['net 127.0.0.1:0', 'net 127.0.0.1:19092'], {});
    const { errors } = checkDenoPermissions(deno, config, new Set());
    expect(errors).toEqual([
      'routes[0].sinks[0].url (far): net access to api.example.com:443 is not granted (--allow-net)',
      '`deno task relay:flags --config <file>` prints the least permissions this config needs',
    ]);
  });

  it('reports unreadable variables: beside the errors of a config that failed, as warnings otherwise', () => {
    const deno = fakeDeno(['net 127.0.0.1:0', 'net 127.0.0.1:19092', 'net api.example.com:443'], {});
    const denied = new Set(['SINK_TOKEN']);
    expect(checkDenoPermissions(deno, undefined, denied).errors).toEqual([
      'environment variable SINK_TOKEN is not readable (not in --allow-env)',
    ]);
    expect(checkDenoPermissions(deno, config, denied)).toEqual({
      errors: [],
      warnings: ['environment variable SINK_TOKEN is not readable (not in --allow-env): read as unset'],
    });
  });
});
