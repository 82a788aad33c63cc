#!/usr/bin/env node
// Ferry's command line: `ferry <noun> <verb>`. Each noun lives in cli/commands/<noun>.ts and is
// loaded only when it is used, so `ferry --help` stays fast.
import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { exitCodeOf, explain, verboseRequested } from './errors.ts';

// --verbose may stand anywhere on the line; it only decides whether a failure prints its stack.
const verbose = verboseRequested(process.argv, process.env);
const argv = process.argv.filter((a) => a !== '--verbose');

const program = new Command('ferry')
  .description('Ferry turns database changes into reliable API calls.')
  .version(pkg.version, '-V, --version', 'print the version')
  .option('--verbose', 'on a failure, print the stack trace too (or FERRY_VERBOSE=1)')
  .showHelpAfterError()
  .enablePositionalOptions();

const nouns: Array<[name: string, summary: string, load: () => Promise<{ register(cmd: Command): void }>]> = [
  [
    'stack',
    'start, stop and inspect the local stack (Kafka, Connect + Debezium, PostgreSQL, Redis)',
    () => import('./commands/stack.ts'),
  ],
  [
    'generate',
    'write supply-chain changes (inserts, updates, deletes, bad rows) into PostgreSQL',
    () => import('./commands/generate.ts'),
  ],
  ['topics', 'watch record counts on the CDC, clean and DLQ topics', () => import('./commands/topics.ts')],
  [
    'transform',
    'scaffold, build, test, check, deploy and run the Wasm transforms',
    () => import('./commands/transform.ts'),
  ],
  [
    'dlq',
    "reprocess a transform's dead letters (dlq.transform) after its rules were fixed",
    () => import('./commands/dlq.ts'),
  ],
  ['relay', 'run the relay that delivers clean events to external APIs', () => import('./commands/relay.ts')],
  [
    'push',
    "forward Kafka topics to an edge relay's /push/batches, signed, committing what it committed",
    () => import('./commands/push.ts'),
  ],
  [
    'mock-api',
    'run the mock external API used by tests and the demo',
    () => import('./commands/mock-api.ts'),
  ],
  [
    'demo',
    'run the whole pipeline on the local stack and print the accounting',
    () => import('./commands/demo.ts'),
  ],
  [
    'test',
    'run the whole test suite as CI does (install, lint, stack up, npm test)',
    () => import('./commands/test.ts'),
  ],
];

const wanted = argv[2];
for (const [name, summary, load] of nouns) {
  if (name === wanted) {
    const cmd = program.command(name).description(summary);
    (await load()).register(cmd);
  } else {
    // Listed in `ferry --help` without loading the module.
    program.command(name).description(summary);
  }
}

try {
  await program.parseAsync(argv);
} catch (error) {
  console.error(`ferry: ${explain(error)}`);
  if (verbose) console.error(error);
  process.exit(exitCodeOf(error));
}
