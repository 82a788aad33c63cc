// `ferry transform check`: exit 0 and a summary for a module the broker accepts; exit 1 with the broker's
// reasons for one it refuses (docs/abi.md §1). Runs the real CLI in a child process.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoV1Module, minimalModule } from '../../test/support/wasm-builder.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
let dir = '';

async function ferry(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['cli/main.ts', ...args], {
      cwd: root,
      timeout: 30_000,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ferry transform check', () => {
  it('accepts a v1 module and prints its ABI version and imports', async () => {
    const file = join(dir, 'echo.wasm');
    await writeFile(file, echoV1Module());
    const { code, out } = await ferry('transform', 'check', file);
    expect(code).toBe(0);
    expect(out).toMatch(/: ok/);
    expect(out).toMatch(/abi\s+v1/);
    expect(out).toMatch(/redpanda_transform\.read_batch_header/);
  });
  it("refuses AssemblyScript's env.abort with the reason and exit code 1", async () => {
    const file = join(dir, 'abort.wasm');
    const module = minimalModule({
      imports: [
        { module: 'redpanda_transform', name: 'check_abi_version_2' },
        { module: 'env', name: 'abort', params: ['i32', 'i32', 'i32', 'i32'] },
      ],
    });
    await writeFile(file, module);
    const { code, out } = await ferry('transform', 'check', file);
    expect(code).toBe(1);
    expect(out).toMatch(/REFUSED/);
    expect(out).toMatch(/env.abort|env::abort/);
  });
  it('every transform subcommand has help', async () => {
    for (const sub of ['build', 'check', 'run']) {
      const { code, out } = await ferry('transform', sub, '--help');
      expect(code).toBe(0);
      expect(out).toMatch(/Usage: ferry transform/);
      expect(out).toMatch(/Example/);
    }
  }, 60_000); // three CLI processes in a row: more than the unit default on a loaded machine
});

describe('ferry transform run', () => {
  it('refuses a pipeline depth outside 1..16 before touching Kafka', async () => {
    for (const depth of ['0', '17', 'x']) {
      const { code, err } = await ferry(
        'transform',
        'run',
        '--module',
        join(dir, 'none.wasm'),
        '--input-topic',
        'a',
        '--output-topic',
        'b',
        '--pipeline-depth',
        depth,
      );
      expect(code).toBe(1);
      expect(err).toMatch(/--pipeline-depth <n>' argument '.*' is invalid/);
    }
  }, 60_000);
});
