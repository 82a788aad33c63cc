// Compiles the host-conformance probe guest (test/support/guests/probe.as) with asc, once per process.
import { readFile } from 'node:fs/promises';
import asc from 'assemblyscript/asc';

let cached: Promise<Uint8Array> | null = null;

export function probeModule(): Promise<Uint8Array> {
  cached ??= (async () => {
    const source = await readFile(new URL('./guests/probe.as', import.meta.url), 'utf8');
    const result = await asc.compileString(
      { 'probe.ts': source },
      { runtime: 'incremental', optimizeLevel: 1, use: ['abort=probe/probeAbort'] },
    );
    if (result.error !== null || result.binary === null) {
      throw new Error(`probe guest does not compile: ${result.stderr.toString()}`);
    }
    return result.binary;
  })();
  return cached;
}
