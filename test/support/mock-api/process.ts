// Starts the mock API as a child process and resolves with its URL (first stdout line): `ferry mock-api`
// on Node by default, or test/support/mock-api/main.ts under Bun (served by Bun.serve) or Node.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface MockApiProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export async function spawnMockApi(
  args: readonly string[] = [],
  { runtime = 'cli' }: { readonly runtime?: 'cli' | 'node' | 'bun' } = {},
): Promise<MockApiProcess> {
  const file = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
  const [cmd, argv]: [string, string[]] =
    runtime === 'cli'
      ? [process.execPath, [file('../../../cli/main.ts'), 'mock-api', '--port', '0', ...args]]
      : [
          runtime === 'bun' ? file('../../../node_modules/.bin/bun') : process.execPath,
          [file('./main.ts'), '--port', '0', ...args],
        ];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`mock-api exited with ${code}`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
