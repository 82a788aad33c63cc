// Node and Bun entries only, and deliberately tiny: called before the relay's modules load, since it may replace the process.

/**
 * V8 grows its heap lazily up to a limit sized from the machine's memory (GBs here), so a relay that
 * holds ~50 MB of live data sat at 400+ MB RSS under load. Re-executes this same process (same pid, via
 * process.execve) with a capped old space and a small young generation unless the caller already chose
 * (execArgv or NODE_OPTIONS). FERRY_RELAY_HEAP_MB sets the cap (default 160); 0 leaves V8's defaults.
 * Measured on a 40k-record drain: peak RSS 407 MB uncapped, ~200 MB capped.
 * FERRY_RELAY_SEMI_MB sets the young generation's semi-space (default 8). It trades memory for CPU:
 * on 60k-record drains (3 interleaved pairs) 32 took 84-95 µs CPU per record and ~240 MB peak RSS,
 * 8 took 96-116 µs and 187-203 MB (fewer scavenges, fewer in-flight objects promoted).
 */
export function reexecWithHeapLimits(env: NodeJS.ProcessEnv = process.env): void {
  const heapMb = Number(env.FERRY_RELAY_HEAP_MB ?? 160);
  const chosen = [...process.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) =>
    a.startsWith('--max-old-space-size'),
  );
  const execve = (
    process as unknown as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }
  ).execve;
  if (chosen || !(heapMb > 0) || typeof execve !== 'function') return;
  const semiMb = Number(env.FERRY_RELAY_SEMI_MB ?? 8);
  const flags = [
    `--max-old-space-size=${Math.round(heapMb)}`,
    `--max-semi-space-size=${semiMb > 0 ? Math.round(semiMb) : 8}`,
  ];
  execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], env);
}

/**
 * Bun's counterpart: JavaScriptCore sizes its GC heuristics from the machine's RAM (GBs here), so the
 * relay on Bun sat at 250-370 MB RSS under load. Re-executes this same process (same pid) with
 * BUN_JSC_forceRAMSize, which JSC reads only at startup, unless it is already set.
 * FERRY_RELAY_BUN_RAM_MB sets it (default 192); 0 leaves JSC's defaults.
 * Measured on 100k-record drains plus 15 s at 2k/s: peak RSS 235-370 MB without; with 256: 191 MB
 * draining, 225 MB later; with 192: 186 / 142 MB at about the same CPU; with 128: 145 / 126 MB but
 * ~15% more CPU per record (more GC).
 */
export function reexecBunWithRamLimit(env: NodeJS.ProcessEnv = process.env): void {
  const ramMb = Number(env.FERRY_RELAY_BUN_RAM_MB ?? 192);
  const execve = (
    process as unknown as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }
  ).execve;
  if (env.BUN_JSC_forceRAMSize !== undefined || !(ramMb > 0) || typeof execve !== 'function') return;
  execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    ...env,
    BUN_JSC_forceRAMSize: String(Math.round(ramMb * 1024 * 1024)),
  });
}
