// The Deno entry's view of its own permissions: the environment read one variable at a time (a
// variable --allow-env leaves out reads as unset and is remembered, never a crash), and a config
// check that refuses, at start, a config whose hosts or files the granted --allow-net/--allow-read
// do not cover, naming the setting that needs each.
//
// The same environment stands in for `process.env` before the npm packages load: some read optional
// variables at load time (undici: UNDICI_NO_WASM_SIMD; `debug`, under ioredis, lists every variable),
// which under a partial --allow-env would throw NotCapable and stop the relay before it starts. With
// the stand-in they see the granted variables and nothing else.
import { type ConfigAccess, configAccess } from '../config/access.ts';
import type { RelayConfig } from '../config/load.ts';

type PermissionDescriptor =
  | { readonly name: 'env'; readonly variable: string }
  | { readonly name: 'net'; readonly host: string }
  | { readonly name: 'read'; readonly path: string };

/** The part of the Deno namespace this file uses. */
export interface DenoPermissionsApi {
  readonly env: { get(name: string): string | undefined };
  readonly permissions: { querySync(descriptor: PermissionDescriptor): { readonly state: string } };
}

export interface PermittedEnv {
  /** The environment as a record: each read asks Deno, a variable not granted reads as undefined. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Variables something asked for that --allow-env does not grant. */
  readonly denied: ReadonlySet<string>;
}

export function permittedEnv(deno: DenoPermissionsApi): PermittedEnv {
  const denied = new Set<string>();
  // What code in this process set: kept here, the real environment is left alone.
  const written = new Map<string, string | undefined>();
  const read = (name: string): string | undefined => {
    if (written.has(name)) return written.get(name);
    if (deno.permissions.querySync({ name: 'env', variable: name }).state !== 'granted') {
      denied.add(name);
      return undefined;
    }
    return deno.env.get(name);
  };
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => (typeof name === 'string' ? read(name) : undefined),
    has: (_target, name) => typeof name === 'string' && read(name) !== undefined,
    set: (_target, name, value) => {
      if (typeof name === 'string') written.set(name, String(value));
      return true;
    },
    deleteProperty: (_target, name) => {
      if (typeof name === 'string') written.set(name, undefined);
      return true;
    },
    // Listing the environment needs all of it: only what this process set is listed.
    ownKeys: () => [...written].filter(([, v]) => v !== undefined).map(([k]) => k),
    getOwnPropertyDescriptor: (_target, name) => {
      const value = typeof name === 'string' ? written.get(name) : undefined;
      return value === undefined
        ? undefined
        : { value, writable: true, enumerable: true, configurable: true };
    },
  });
  return { env, denied };
}

function descriptorOf(access: ConfigAccess): PermissionDescriptor {
  if (access.kind === 'net') return { name: 'net', host: access.value };
  return { name: 'read', path: access.value };
}

const FLAG_HINT = '`deno task relay:flags --config <file>` prints the least permissions this config needs';

/** Errors for what the config needs and the permissions leave out; warnings for variables read as unset. */
export function checkDenoPermissions(
  deno: DenoPermissionsApi,
  config: RelayConfig | undefined,
  deniedEnv: ReadonlySet<string>,
): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const envLine = (name: string) => `environment variable ${name} is not readable (not in --allow-env)`;
  // The config did not parse: a variable it could not read may be why; say so beside the schema's errors.
  if (config === undefined) return { errors: [...deniedEnv].map(envLine), warnings };
  for (const name of deniedEnv) warnings.push(`${envLine(name)}: read as unset`);
  for (const access of configAccess(config)) {
    if (deno.permissions.querySync(descriptorOf(access)).state !== 'granted') {
      errors.push(
        `${access.for}: ${access.kind} access to ${access.value} is not granted (--allow-${access.kind})`,
      );
    }
  }
  if (errors.length > 0) errors.push(FLAG_HINT);
  return { errors, warnings };
}
