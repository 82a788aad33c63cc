#!/usr/bin/env node
// Standalone entry of the build step: `node wasm/build/main.ts [name...] [--force]`. Compiles and
// checks the transforms, prints one line per module, exits 1 if any failed (with the reasons).
// `ferry transform build` offers the same through the CLI.
import { buildTransforms } from './build.ts';

const args = process.argv.slice(2);
const force = args.includes('--force');
const names = args.filter((a) => !a.startsWith('--'));
const results = await buildTransforms({ ...(names.length > 0 ? { names } : {}), force });
let failed = 0;
for (const r of results) {
  if (r.ok) {
    const kb = (r.info.sizeBytes / 1024).toFixed(1);
    console.log(
      `ok    ${r.name.padEnd(12)} ${kb.padStart(6)} KB  ABI v${r.info.abiVersion}  ${r.cached ? 'cached' : 'built'}  ${r.wasmPath}`,
    );
  } else {
    failed++;
    console.log(`FAIL  ${r.name}`);
    for (const reason of r.reasons) console.log(`      ${reason.replaceAll('\n', '\n      ')}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
