#!/usr/bin/env node
// Node entry point. Usage: node relay/entry/node.ts --config relay.yaml (or FERRY_CONFIG=relay.yaml)
import { createNodeHost } from '../host-node.ts';
import { runRelay } from '../main.ts';

await runRelay(createNodeHost(process.argv.slice(2)));
