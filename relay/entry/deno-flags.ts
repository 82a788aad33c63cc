// Prints the `deno run` command that runs the relay with the least permissions a config needs:
// --allow-net to the addresses it listens on and connects to (brokers, Redis or Upstash, each sink's
// origin), --allow-read of the config, its TLS files and the one file an npm package reads at load
// (@platformatic/kafka's CRC32C Wasm), --allow-env of FERRY_* and the variables the config reads.
//   deno task relay:flags --config relay.yaml [--json]
// With --json: the arguments after `deno` as a JSON array (for scripts and tests). Exit 2 when the
// config is invalid (one `path: problem` line each), as the relay itself would.
import { isAbsolute, resolve } from 'node:path';
import { configAccess } from '../config/access.ts';
import { parseConfig } from '../config/load.ts';

/** The V8 heap limits of `deno task relay` (deno.json), the counterpart of the Node entry's. */
export const RELAY_V8_FLAGS = '--v8-flags=--max-old-space-size=160,--max-semi-space-size=8';

interface DenoFlagsApi {
  readonly args: string[];
  readonly env: { get(name: string): string | undefined };
  cwd(): string;
  readTextFile(path: string): Promise<string>;
  realPathSync(path: string): string;
  exit(code: number): never;
}

const USAGE = `Usage: deno task relay:flags --config <file> [--json]

Prints the deno run command that runs the relay with the least permissions this config needs:
  --allow-net   the listen address, the Kafka brokers, Redis or Upstash, every sink's host:port
  --allow-read  the config, its TLS files, and @platformatic/kafka's Wasm file (read when it loads)
  --allow-env   FERRY_* and every variable the config reads (\${NAME} / \${NAME:-default})
The config is read with the current environment, as the relay would read it.
Brokers that advertise other addresses than the bootstrap ones need those added to --allow-net.

  --json   the arguments after \`deno\` as a JSON array
Exit codes: 0 printed, 2 invalid config or usage.`;

/** The relay's deno run arguments for a parsed config (everything after `deno`). */
export function relayRunArgs({
  configPath,
  access,
  envNames,
  wasmPath,
  entry,
}: {
  readonly configPath: string;
  readonly access: ReturnType<typeof configAccess>;
  readonly envNames: Iterable<string>;
  readonly wasmPath: string;
  readonly entry: string;
}): string[] {
  const net = access.filter((a) => a.kind === 'net').map((a) => a.value);
  const read = [...access.filter((a) => a.kind === 'read').map((a) => a.value), wasmPath];
  const env = ['FERRY_*', ...[...new Set(envNames)].filter((n) => !n.startsWith('FERRY_')).sort()];
  return [
    'run',
    `--allow-net=${net.join(',')}`,
    `--allow-read=${read.join(',')}`,
    `--allow-env=${env.join(',')}`,
    RELAY_V8_FLAGS,
    entry,
    '--config',
    configPath,
  ];
}

async function main(Deno: DenoFlagsApi): Promise<void> {
  const args = Deno.args;
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const at = args.indexOf('--config');
  const given = at >= 0 ? args[at + 1] : Deno.env.get('FERRY_CONFIG');
  if (given === undefined || given === '') {
    console.error(`relay:flags: no config file (pass --config <file>)\n\n${USAGE}`);
    return Deno.exit(2);
  }
  const configPath = isAbsolute(given) ? given : resolve(Deno.cwd(), given);
  let text: string;
  try {
    text = await Deno.readTextFile(configPath);
  } catch (e) {
    console.error(`relay:flags: cannot read config ${given}: ${e instanceof Error ? e.message : String(e)}`);
    return Deno.exit(2);
  }
  // The variables the config reads, whether set or not: a Proxy records each name asked for.
  const envNames = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => {
      if (typeof name !== 'string') return undefined;
      envNames.add(name);
      return Deno.env.get(name);
    },
  });
  const result = parseConfig(text, env);
  if (!result.ok) {
    console.error(`relay:flags: invalid config ${given}:`);
    for (const error of result.errors) console.error(`  ${error}`);
    return Deno.exit(2);
  }
  const root = new URL('../../', import.meta.url);
  const runArgs = relayRunArgs({
    configPath,
    access: configAccess(result.config, configPath),
    envNames,
    // Read through node_modules' real path (node_modules may be a link), which is what Deno checks.
    wasmPath: Deno.realPathSync(
      new URL('node_modules/@platformatic/wasm-utils/dist/native.wasm', root).pathname,
    ),
    entry: new URL('relay/entry/deno.ts', root).pathname,
  });
  console.log(args.includes('--json') ? JSON.stringify(runArgs) : `deno ${runArgs.join(' ')}`);
}

if (import.meta.main) await main((globalThis as unknown as { Deno: DenoFlagsApi }).Deno);
