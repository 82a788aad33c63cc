// Compiles the test guests in test/support/guests/ (AssemblyScript) with asc, once per process each:
// the host-conformance probe (probe.as) and the small guests that test one rule each.
import { readFile } from 'node:fs/promises';
import asc from 'assemblyscript/asc';

export type GuestName = 'probe' | 'bad-wasi-signature';

export interface GuestOptions {
  /**
   * Route AssemblyScript's abort to the guest's own export (`probeAbort` in probe.as, `guestAbort` in the
   * others), as a transform must. false keeps asc's default `env.abort` import, which no broker links.
   */
  abortOverride?: boolean;
}

const cached = new Map<string, Promise<Uint8Array>>();

export function guestModule(
  name: GuestName,
  { abortOverride = true }: GuestOptions = {},
): Promise<Uint8Array> {
  const key = `${name}:${abortOverride}`;
  let p = cached.get(key);
  if (p === undefined) {
    p = (async () => {
      const source = await readFile(new URL(`./guests/${name}.as`, import.meta.url), 'utf8');
      const abort = name === 'probe' ? 'probe/probeAbort' : `${name}/guestAbort`;
      const result = await asc.compileString(
        { [`${name}.ts`]: source },
        { runtime: 'incremental', optimizeLevel: 1, ...(abortOverride ? { use: [`abort=${abort}`] } : {}) },
      );
      if (result.error !== null || result.binary === null) {
        throw new Error(`guest ${name} does not compile: ${result.stderr.toString()}`);
      }
      return result.binary;
    })();
    cached.set(key, p);
  }
  return p;
}

export function probeModule(): Promise<Uint8Array> {
  return guestModule('probe');
}
