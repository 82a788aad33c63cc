// `npm run chaos` (full form) and `npm run chaos:short`: see `--help` and README.md in this folder.
import { runChaos } from './harness.ts';
import { HELP, OptionError, parseChaosArgs } from './options.ts';

let options: ReturnType<typeof parseChaosArgs>;
try {
  options = parseChaosArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof OptionError)) throw error;
  process.stderr.write(`${error.message}\n\n${HELP}\n`);
  process.exit(2);
}
if (options === 'help') {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
// Stopped from outside: exit, which ends the relay and the runners too (children.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const report = await runChaos(options);
process.exit(report.ok ? 0 : 1);
