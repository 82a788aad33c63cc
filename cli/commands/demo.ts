// `ferry demo`: the main job. Starts the local stack, builds the transforms, runs them in the portable
// runner, runs the relay against mock external APIs, feeds the generator, and ends with an accounting.
import { type Command, InvalidArgumentError } from 'commander';
import { durationFlag } from '../flags.ts';

const number =
  (name: string, { min = 0, max = Number.POSITIVE_INFINITY } = {}) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]`);
    }
    return n;
  };

export function register(cmd: Command): void {
  cmd
    .option('--count <n>', 'row changes to generate', number('count', { min: 1 }), 3000)
    .option('--rate <n>', 'changes per second', number('rate', { min: 1 }), 500)
    .option('--bad-share <x>', 'share of deliberately bad rows, 0..1', number('bad-share', { max: 1 }), 0.05)
    .option('--seed <n>', 'generator seed', number('seed'), 42)
    .option('--no-faults', 'do not inject faults at the mock APIs')
    .option(
      '--drain-timeout <duration>',
      'how long to wait for the pipeline to drain (a bare number is seconds; default 2m)',
      durationFlag('s', { min: 1000 }),
      120_000,
    )
    .option(
      '--console-port <port>',
      "port of the relay's console on 127.0.0.1 (0: a free one)",
      number('console-port', { max: 65535 }),
      0,
    )
    .option('--keep', 'after the accounting, keep the relay and its console up until Ctrl-C')
    .addHelpText(
      'after',
      '\nStarts the local stack if needed and leaves it running. Exit code 0 when every change is accounted for.\n' +
        'While it runs, the relay serves its console at the printed URL; sign in with the printed one-time\n' +
        'token (random per run). With --keep the console stays up after the accounting, to click around.',
    )
    .action(
      async (o: {
        count: number;
        rate: number;
        badShare: number;
        seed: number;
        faults: boolean;
        drainTimeout: number;
        consolePort: number;
        keep?: boolean;
      }) => {
        const { runDemo } = await import('../demo/demo.ts');
        const ok = await runDemo({
          count: o.count,
          rate: o.rate,
          badShare: o.badShare,
          seed: o.seed,
          faults: o.faults,
          drainTimeoutMs: o.drainTimeout,
          consolePort: o.consolePort,
          keep: o.keep === true,
        });
        process.exit(ok ? 0 : 1);
      },
    );
}
