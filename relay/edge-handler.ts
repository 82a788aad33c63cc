// What an edge entry point (Workers, Deno Deploy) serves, and what its cron runs: with
// `source: http-proxy`, one bounded drain of Redpanda's HTTP Proxy per event (logged as `drain done`
// with its report); with `source: push`, a warning that there is nothing to pull. The config text (JSON or YAML; `${VAR}`
// read from the given bindings, not a process environment) is parsed and validated once per isolate,
// with the same schema as everywhere; a config that cannot work answers every request 500 with its
// `path: problem` lines (never a value) and logs them once.
//
// One relay per request. Workers bind every I/O object (timers, abort signals, fetches, streams) to
// the request that created it and refuse its use from another request, so a relay whose loops were
// started by one request cannot serve the next. Each request therefore builds a relay, starts it,
// lets the app answer (a push answers once every record is terminal), and closes it before the
// response leaves; a push that times out (202) leaves nothing behind: claims of unfinished records are
// released on close and the re-push is deduplicated. Each request's relay has its own instance id, so
// two concurrent pushes of one batch in one isolate cannot both hold a dedupe claim. What outlives a
// request is data only: the config, the metrics registry (counters add up across requests), the
// memory dedupe table (when a sink uses it) and the sinks paused through the admin API (in this
// isolate; every isolate has its own).

import { createMemoryDedupeTable, type MemoryDedupeTable } from './adapters/dedupe-memory.ts';
import type { DrainReport } from './adapters/http-proxy/index.ts';
import type { ClientAddress } from './app/client-address.ts';
import { errorMessage } from './core/errors.ts';
import { createRedactor, type Redactor } from './core/redact.ts';
import {
  buildEdgeRelay,
  type EdgeRelayRuntime,
  edgeConfigProblems,
  parseConfig,
  type RelayConfig,
} from './edge.ts';
import { createJsonLogger } from './logging.ts';
import { createRegistry, type Registry } from './metrics/registry.ts';
import { configSecrets } from './secrets.ts';

export type Bindings = Readonly<Record<string, unknown>>;

export interface EdgeHandlerOptions {
  /** Where log lines go (console.error by default, which Workers and Deno Deploy both collect). */
  readonly write?: (line: string) => void;
  readonly clientAddress?: ClientAddress;
}

export interface EdgeHandler {
  /** Serves the relay's app; `bindings` hold FERRY_CONFIG and the secrets it refers to. */
  fetch(request: Request, bindings: Bindings): Promise<Response>;
  /** One scheduled drain of the pull source (resolves when done). */
  drain(bindings: Bindings): Promise<void>;
}

interface Isolate {
  readonly config: RelayConfig;
  readonly env: Record<string, string>;
  readonly redact: Redactor;
  readonly log: ReturnType<typeof createJsonLogger>;
  readonly metrics: Registry;
  readonly memoryTable: MemoryDedupeTable;
  readonly id: string;
  readonly paused: Set<string>;
  requests: number;
}

type Loaded =
  | { readonly ok: true; readonly isolate: Isolate }
  | { readonly ok: false; readonly errors: string[] };

/** The string-valued bindings: the environment the config's `${VAR}` references read. */
function envOf(bindings: Bindings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(bindings)) if (typeof v === 'string') env[k] = v;
  return env;
}

export function createEdgeHandler({ write, clientAddress }: EdgeHandlerOptions = {}): EdgeHandler {
  let loaded: Loaded | undefined;

  function load(bindings: Bindings): Loaded {
    const env = envOf(bindings);
    const text = env.FERRY_CONFIG;
    const fail = (errors: string[]): Loaded => {
      createJsonLogger(write ? { write } : {}).error('invalid config', { errors });
      return { ok: false, errors };
    };
    if (text === undefined || text.trim() === '')
      return fail(['FERRY_CONFIG: not set (bind the relay config, JSON or YAML, as a text variable)']);
    const parsed = parseConfig(text, env);
    if (!parsed.ok) return fail([...parsed.errors]);
    const problems = edgeConfigProblems(parsed.config);
    if (problems.length > 0) return fail(problems);
    const config = parsed.config;
    const redact = createRedactor({ secrets: configSecrets(config) });
    const log = createJsonLogger({ quiet: env.FERRY_LOG === 'quiet', redact, ...(write ? { write } : {}) });
    const id = env.FERRY_INSTANCE_ID ?? config.instanceId ?? `edge-${crypto.randomUUID().slice(0, 8)}`;
    log.info('edge relay loaded', { instanceId: id });
    const isolate = {
      config,
      env,
      redact,
      log,
      metrics: createRegistry(),
      memoryTable: createMemoryDedupeTable(),
      id,
      paused: new Set<string>(),
      requests: 0,
    };
    return { ok: true, isolate };
  }

  /** A started relay for one request or one cron event, with the isolate's paused sinks. */
  async function relayFor(isolate: Isolate): Promise<EdgeRelayRuntime> {
    const runtime = buildEdgeRelay({
      config: isolate.config,
      logger: isolate.log,
      instanceId: `${isolate.id}-${++isolate.requests}`,
      slot: isolate.id,
      redact: isolate.redact,
      metrics: isolate.metrics,
      memoryTable: isolate.memoryTable,
      clientAddress,
    });
    for (const id of isolate.paused) runtime.relay.pauseSink(id);
    return runtime;
  }

  async function serve(isolate: Isolate, request: Request, bindings: Bindings): Promise<Response> {
    const { log, redact, paused } = isolate;
    const runtime = await relayFor(isolate);
    try {
      await runtime.relay.start();
      const response = await runtime.app.fetch(request, bindings);
      // A body still streaming would outlive the relay: read it before closing.
      const body = await response.arrayBuffer();
      for (const sink of runtime.relay.state().sinks)
        if (sink.mode === 'paused') paused.add(sink.id);
        else paused.delete(sink.id);
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (e) {
      log.error('edge request failed', { error: redact(errorMessage(e)) });
      return Response.json({ error: 'internal error' }, { status: 500 });
    } finally {
      await runtime.close();
    }
  }

  return {
    async fetch(request, bindings) {
      loaded ??= load(bindings);
      if (!loaded.ok)
        return Response.json({ error: 'invalid config', problems: loaded.errors }, { status: 500 });
      return serve(loaded.isolate, request, bindings);
    },
    async drain(bindings) {
      loaded ??= load(bindings);
      if (!loaded.ok) return;
      const isolate = loaded.isolate;
      if (isolate.config.source !== 'http-proxy') {
        isolate.log.warn('no pull source configured: records arrive on POST /push/batches');
        return;
      }
      const runtime = await relayFor(isolate);
      try {
        await runtime.relay.start();
        const report = await (runtime.drain as () => Promise<DrainReport>)();
        const { committed, ...rest } = report;
        const fields = { ...rest, committed: committed.map((c) => `${c.topic}/${c.partition}@${c.next}`) };
        if (report.outcome === 'failed') isolate.log.error('drain failed', fields);
        else isolate.log.info('drain done', fields);
      } catch (e) {
        isolate.log.error('drain failed', { error: isolate.redact(errorMessage(e)) });
      } finally {
        await runtime.close();
      }
    },
  };
}
