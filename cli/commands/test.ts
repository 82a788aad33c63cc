// `ferry test`: the whole test suite exactly as CI runs it (.ci/run): install what is missing, lint,
// type-check, start the local stack, `npm test`, and stop the stack again if this run started it.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

export function register(cmd: Command): void {
  cmd
    .addHelpText(
      'after',
      '\nFor a quicker loop with the stack already up: npm test, npm run test:unit, npm run test:integration.',
    )
    .action(() => {
      const root = fileURLToPath(new URL('../..', import.meta.url));
      const result = spawnSync('bash', [resolve(root, '.ci/run')], { cwd: root, stdio: 'inherit' });
      process.exit(result.status ?? 1);
    });
}
