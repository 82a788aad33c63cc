// The asc flags every Ferry transform is built with, and why (docs/abi.md §1, §8, §10):
//
//   --exportStart _start          the broker calls `_start` (a WASI command); module init and the
//                                 endless record loop run inside it, not in a Wasm start section
//   --runtime minimal             TLSF with a mark-and-sweep collector the SDK runs itself
//                                 (__collect every 128 records or 128 KiB of payloads), so memory
//                                 stays flat inside the endless loop. Measured against the
//                                 incremental runtime: about 1.7 us less per 1 KB record (no write
//                                 barriers, no shadow stack) and one 64 KiB page instead of two.
//                                 The price: collection sees only globals, so the SDK keeps every
//                                 long-lived object reachable from a global (transform.ts).
//   --use abort=sdk/abort/wasiAbort
//                                 no `env.abort` import: aborts go to fd 2 and proc_exit instead
//   -O3 --shrinkLevel 1           fast code, still far under the 64 KB target. Measured on the
//                                 shipments guest: --shrinkLevel 0 --converge no faster (+15 KB),
//                                 -O2 28% slower, --noAssert no faster (and it would hide traps).
//   (no --maximumMemory)          a declared maximum makes the broker's allocator refuse the module
//   (no --importMemory)           the module must export its own memory named "memory"
//
// `env.trace` and `env.seed` appear only if a transform calls trace() or Math.random(); the
// deploy-time check refuses such a module with the reason.
export const ASC_FLAGS: readonly string[] = [
  '--exportStart',
  '_start',
  '--runtime',
  'minimal',
  '--use',
  'abort=sdk/abort/wasiAbort',
  '-O3',
  '--shrinkLevel',
  '1',
  '--noColors',
];
