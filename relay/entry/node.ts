#!/usr/bin/env node
// Node entry point. Usage: node relay/entry/node.ts --config relay.yaml (or FERRY_CONFIG=relay.yaml)
import { reexecWithHeapLimits } from '../heap-limits.ts';

// Before anything heavy loads: this may re-execute the process with V8 heap limits (same pid).
reexecWithHeapLimits();
const [{ createNodeHost }, { runRelay }] = await Promise.all([
  import('../host-node.ts'),
  import('../main.ts'),
]);
await runRelay(createNodeHost(process.argv.slice(2)));
