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
    .addHelpText(
      'after',
      '\nStarts the local stack if needed and leaves it running. Exit code 0 when every change is accounted for.',
    )
    .action(
      async (o: {
        count: number;
        rate: number;
        badShare: number;
        seed: number;
        faults: boolean;
        drainTimeout: number;
      }) => {
        const { runDemo } = await import('../demo/demo.ts');
        const ok = await runDemo({
          count: o.count,
          rate: o.rate,
          badShare: o.badShare,
          seed: o.seed,
          faults: o.faults,
          drainTimeoutMs: o.drainTimeout,
        });
        process.exit(ok ? 0 : 1);
      },
    );
}
