// Runs the bundled edge relay (npm run build:edge's worker.js) on the real Workers runtime: the
// workerd binary from npm, started as a child process with a generated capnp config, so a test can
// kill -9 it by pid and start it again. Bindings reach the Worker as text bindings read from the
// child's environment (FERRY_CONFIG, secrets). Outbound fetch may reach 127.0.0.1 (the stack, the
// mock API, the Upstash gateway). The bundle is built once per test process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEdge } from '../../deploy/edge/build.ts';
import { freePort } from './ports.ts';
import { waitUntil } from './wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKERD = join(ROOT, 'node_modules/.bin/workerd');
/** Within what this workerd supports; no nodejs_compat: the bundle must not need Node APIs. */
export const COMPATIBILITY_DATE = '2026-07-01';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

let bundle: Promise<string> | undefined;

/** The directory holding worker.js, built on first use. */
export function edgeBundleDir(): Promise<string> {
  bundle ??= (async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'ferry-edge-'));
    await buildEdge({ outdir, targets: ['worker'] });
    return outdir;
  })();
  return bundle;
}

// A second Worker on its own port fires the relay's cron handler the way the platform does
// (Fetcher.scheduled through a service binding), since workerd itself runs no cron triggers. That
// binding needs an experimental flag (hence --experimental); the relay's Worker uses none.
const TRIGGER = `export default {
  async fetch(request, env) {
    const cron = new URL(request.url).searchParams.get('cron') ?? '* * * * *';
    return Response.json(await env.RELAY.scheduled({ cron, scheduledTime: new Date() }));
  },
};`;

function capnpConfig(port: number, triggerPort: number, bindingNames: readonly string[]): string {
  const bindings = bindingNames.map(
    (n) => `(name = ${JSON.stringify(n)}, fromEnvironment = ${JSON.stringify(n)})`,
  );
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .relay),
    (name = "trigger", worker = .trigger),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:${port}", http = (), service = "main"),
    (name = "trigger", address = "127.0.0.1:${triggerPort}", http = (), service = "trigger"),
  ],
);
const trigger :Workerd.Worker = (
  modules = [ (name = "trigger.js", esModule = ${JSON.stringify(TRIGGER)}) ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  compatibilityFlags = ["service_binding_extra_handlers"],
  bindings = [ (name = "RELAY", service = "main") ],
);
const relay :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  bindings = [ ${bindings.join(', ')} ],
);
`;
}

export interface EdgeWorker {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Milliseconds from spawning workerd to the first 200 on /healthz. */
  readonly coldStartMs: number;
  /** Milliseconds the first answered /healthz took (loading the relay, parsing the config). */
  readonly firstRequestMs: number;
  readonly output: () => string;
  /** Runs the Worker's scheduled handler once (as a cron trigger would); resolves with its outcome. */
  scheduled(cron?: string): Promise<{ outcome: string }>;
  /** The sum of a counter or gauge's series on /metrics (0 when absent). */
  metric(name: string): Promise<number>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startEdgeWorker({
  bindings,
  port: givenPort,
  startTimeoutMs = 30_000,
}: {
  /** Text bindings: FERRY_CONFIG (the relay config as JSON or YAML) and the secrets it names. */
  bindings: Readonly<Record<string, string>>;
  /** Default: a free port (a restart passes the previous one). */
  port?: number;
  startTimeoutMs?: number;
}): Promise<EdgeWorker> {
  const dir = await edgeBundleDir();
  const port = givenPort ?? (await freePort());
  const configPath = join(dir, `workerd-${port}.capnp`);
  const triggerPort = await freePort();
  writeFileSync(configPath, capnpConfig(port, triggerPort, Object.keys(bindings)));
  const started = performance.now();
  const child = spawn(WORKERD, ['serve', configPath, '--verbose', '--experimental'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...bindings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 400_000) out = out.slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  let coldStartMs = 0;
  let firstRequestMs = 0;
  let refused: string | undefined;
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null || refused !== undefined) return true;
        const sent = performance.now();
        const res = await fetch(`${url}/healthz`).catch(() => undefined);
        if (res === undefined) return false;
        // The Worker is up but refuses its config: no point waiting.
        if (res.status !== 200) {
          refused = `workerd answered /healthz ${res.status}: ${await res.text()}`;
          return true;
        }
        coldStartMs = performance.now() - started;
        firstRequestMs = performance.now() - sent;
        return true;
      },
      { timeoutMs: startTimeoutMs, intervalMs: 20, message: `workerd on ${port} answering /healthz` },
    );
    if (child.exitCode !== null) throw new Error(`workerd exited with ${child.exitCode}`);
    if (refused !== undefined) throw new Error(refused);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${out.slice(-3000)}`);
  }
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid!, signal);
    await exited;
  };
  return {
    url,
    port,
    pid: child.pid!,
    coldStartMs,
    firstRequestMs,
    output: () => out,
    async scheduled(cron = '* * * * *') {
      const res = await fetch(`http://127.0.0.1:${triggerPort}/?cron=${encodeURIComponent(cron)}`);
      return (await res.json()) as { outcome: string };
    },
    async metric(name) {
      const text = await (await fetch(`${url}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    },
    kill9: () => kill('SIGKILL'),
    stop: () => kill('SIGTERM'),
  };
}
