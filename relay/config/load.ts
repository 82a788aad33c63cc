// Loads the relay config: YAML text -> `${ENV}` interpolation -> valibot schema -> cross-field checks
// -> the resolved options the core takes. Every problem comes back as `path: problem`, all at once,
// and never with the value itself: a config value may be a secret (tokens, `${ENV}` values).
import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import { connectionProblems, type KafkaConnection } from '../../wasm/settings.ts';
import type { RelayOptions, SinkOptions } from '../core/options.ts';
import { checkUrlTemplate } from '../core/url-template.ts';
import { exceedsDepth } from '../core/value-depth.ts';
import { splitWebhookSecrets, webhookSecretKey } from '../core/webhook-signing.ts';
import { checkSinkHttp, headerValueProblem } from './http-checks.ts';
import { formatPath, interpolateEnv } from './interpolate.ts';
import { type ConfigOutput, ConfigSchema } from './schema.ts';

/** A validated relay config with defaults filled in: what buildRelay takes. */
export interface RelayConfig {
  /** This relay instance (undefined: a random one). */
  readonly instanceId: string | undefined;
  /** Where the HTTP surface listens. */
  readonly listen: { readonly port: number; readonly host: string };
  /** Bearer token of the admin API (undefined: the admin API is off). */
  readonly adminToken: string | undefined;
  /** Where records come from. */
  readonly source: 'kafka' | 'push' | 'http-proxy';
  /** The push source's settings (source `push`). */
  readonly push:
    | {
        readonly token: string;
        readonly timeoutMs: number;
        readonly maxBodyBytes: number;
        readonly maxRecords: number;
        readonly requestsPerSecond: number;
        /** Standard Webhooks secrets a push must be signed with; empty with `unsigned: true`. */
        readonly signingSecrets: readonly string[];
        readonly signatureToleranceSeconds: number;
      }
    | undefined;
  /** The HTTP Proxy pull source's settings (source `http-proxy`). */
  readonly httpProxy: HttpProxyConfig | undefined;
  /** Kafka: brokers, group, DLQ topic, TLS and SASL. */
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly groupId: string;
    readonly clientId: string;
    readonly dlqTopic: string;
    /** TLS and SASL to the brokers (absent: plaintext, no auth). */
    readonly connection: KafkaConnection;
  };
  /** Redis for dedupe. */
  readonly redis: { readonly url: string };
  /** Upstash for dedupe. */
  readonly upstash: { readonly url: string; readonly token: string } | undefined;
  /** Where dead letters go (schema.ts `dlq`); `url` and the credentials only for http-proxy and url. */
  readonly dlq: {
    readonly to: 'kafka' | 'http-proxy' | 'url';
    readonly url: string | undefined;
    readonly bearer: string | undefined;
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly timeoutMs: number;
  };
  /** Which HTTP client sends (undefined: the runtime's default). */
  readonly http: { readonly client: 'undici' | 'fetch' | undefined };
  /** DLQ replay rate. */
  readonly replayPerSecond: number;
  /** Routes, sinks and timings. */
  readonly relay: RelayOptions;
}

/** `httpProxy:` resolved (durations in ms). */
export interface HttpProxyConfig {
  readonly url: string;
  readonly group: string;
  readonly instancePrefix: string;
  readonly auth:
    | { readonly kind: 'basic'; readonly username: string; readonly password: string }
    | { readonly kind: 'bearer'; readonly token: string }
    | undefined;
  readonly requestTimeoutMs: number;
  readonly fetchTimeoutMs: number;
  readonly fetchMaxBytes: number;
  readonly drainBudgetMs: number;
  readonly drainMaxRecords: number;
  readonly drainMaxInFlight: number;
  readonly eventIdField: string;
}

/** parseConfig's answer: the config, or every problem as a `path: problem` line. */
export type ConfigResult =
  | { readonly ok: true; readonly config: RelayConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The environment `${NAME}` references read from. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** Far deeper than any real config (filters' eq/in values are the deepest part). */
const MAX_CONFIG_DEPTH = 64;

function issuePath(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? []).map((p) => (typeof p.key === 'number' ? p.key : String(p.key)));
  return formatPath(path as (string | number)[]);
}

/**
 * `path: problem` for a schema issue. The schema's own messages name the problem only; valibot's
 * defaults (`Invalid type: Expected string but received 1234...`) would echo the value, so they are
 * rebuilt from what was expected.
 */
function issueLine(issue: v.BaseIssue<unknown>): string {
  // A strict object's issue for a key it does not know expects `never`; a missing one names the key.
  if (issue.type === 'strict_object' && issue.message.startsWith('Invalid key'))
    return `${issuePath(issue)}: ${issue.expected === 'never' ? 'unknown setting (check the spelling)' : 'missing (required)'}`;
  if (issue.message.startsWith('Invalid '))
    return `${issuePath(issue)}: invalid value${issue.expected ? ` (expected ${issue.expected})` : ''}`;
  return `${issuePath(issue)}: ${issue.message}`;
}

function toSink(s: ConfigOutput['routes'][number]['sinks'][number]): SinkOptions {
  const b = s.breaker;
  return {
    id: s.id,
    url: s.url,
    method: s.method,
    headers: s.headers,
    auth: { bearer: s.auth.bearer, webhookSecret: s.auth.webhookSecret },
    body: s.body === 'value' ? { kind: 'value' } : { kind: 'project', fields: s.body.project },
    timeoutMs: s.timeout,
    retry: {
      attempts: s.retry.attempts,
      backoffBaseMs: s.retry.backoffBase,
      backoffCapMs: s.retry.backoffCap,
      jitter: s.retry.jitter,
    },
    breaker:
      b.mode === 'consecutive'
        ? { mode: 'consecutive', threshold: Math.round(b.threshold), halfOpenAfterMs: b.halfOpenAfter }
        : {
            mode: 'sampling',
            threshold: b.threshold,
            durationMs: b.window,
            minimumRps: b.minimumRps,
            halfOpenAfterMs: b.halfOpenAfter,
          },
    maxInFlight: s.bulkhead.maxInFlight,
    bufferSize: s.bulkhead.buffer,
    rateLimitPerSecond: s.rateLimit?.perSecond,
    onOpen: s.onOpen,
    onExhausted: s.onExhausted,
    parkMs: s.parkFor,
    dedupe:
      s.dedupe === false
        ? { enabled: false, store: 'memory', ttlMs: 0, leaseMs: 0, onUnavailable: 'deliver' }
        : {
            enabled: true,
            store: s.dedupe.store,
            ttlMs: s.dedupe.ttl,
            leaseMs: s.dedupe.lease,
            onUnavailable: s.dedupe.onUnavailable,
          },
    filter: s.filter,
  };
}

/** The push endpoint is signed unless unsigned pushes are chosen explicitly; each secret is whsec_ base64. */
function pushSigningProblems(push: NonNullable<ConfigOutput['push']>): string[] {
  const secrets = push.signingSecret === undefined ? [] : splitWebhookSecrets(push.signingSecret);
  if (secrets.length === 0 && !push.unsigned)
    return [
      'push.signingSecret: required (a Standard Webhooks secret from the environment, e.g. ' +
        `\${FERRY_PUSH_SIGNING_SECRET}); set push.unsigned: true to accept pushes with the bearer token alone`,
    ];
  if (secrets.length > 0 && push.unsigned)
    return ['push.unsigned: cannot be true with a signingSecret (pushes are then always signed)'];
  return secrets.some((s) => webhookSecretKey(s) === undefined)
    ? ['push.signingSecret: must be whsec_ followed by a non-empty base64 key (several separated by spaces)']
    : [];
}

function dlqProblems(d: ConfigOutput['dlq']): string[] {
  const errors: string[] = [];
  if (d.to === 'kafka') {
    for (const key of ['url', 'bearer', 'username', 'password'] as const)
      if (d[key] !== undefined) errors.push(`dlq.${key}: only for dlq.to http-proxy or url`);
    return errors;
  }
  if (d.url === undefined) errors.push(`dlq.url: dlq.to ${d.to} needs a url`);
  else {
    const problem = /^https?:\/\//.test(d.url) ? checkUrlTemplate(d.url) : 'must be an http(s) URL';
    if (problem) errors.push(`dlq.url: ${problem}`);
    else if (/[{}]/.test(d.url)) errors.push('dlq.url: must be a plain URL (no {placeholders})');
  }
  if (d.bearer !== undefined && (d.username !== undefined || d.password !== undefined))
    errors.push('dlq.bearer: use either bearer or username and password');
  if ((d.username === undefined) !== (d.password === undefined))
    errors.push('dlq.username: username and password go together (HTTP Basic)');
  for (const key of ['bearer', 'username', 'password'] as const) {
    const value = d[key];
    if (value !== undefined && headerValueProblem(value))
      errors.push(`dlq.${key}: ${headerValueProblem(value)}`);
  }
  return errors;
}

function crossChecks(c: ConfigOutput): string[] {
  const errors: string[] = [];
  const seen = new Map<string, string>();
  c.routes.forEach((route, r) => {
    route.sinks.forEach((s, i) => {
      const at = `routes[${r}].sinks[${i}]`;
      const prev = seen.get(s.id);
      if (prev) errors.push(`${at}.id: duplicate sink id (also at ${prev})`);
      else seen.set(s.id, at);
      const urlProblem = checkUrlTemplate(s.url);
      if (urlProblem) errors.push(`${at}.url: ${urlProblem}`);
      errors.push(...checkSinkHttp(at, s));
      if (s.breaker.mode === 'sampling' && s.breaker.threshold > 1)
        errors.push(`${at}.breaker.threshold: must be a ratio in (0, 1] for sampling mode`);
      if (s.retry.backoffCap < s.retry.backoffBase)
        errors.push(`${at}.retry.backoffCap: must be >= backoffBase`);
      if (s.dedupe !== false) {
        if (s.dedupe.store === 'upstash' && !c.upstash)
          errors.push(`${at}.dedupe.store: upstash needs a top-level upstash: { url, token }`);
        if (s.dedupe.lease < s.timeout)
          errors.push(`${at}.dedupe.lease: must be at least the sink timeout (${s.timeout} ms)`);
      }
    });
  });
  errors.push(...connectionProblems({ tls: c.kafka.tls, sasl: c.kafka.sasl }, 'kafka'));
  if (c.source === 'push' && !c.push)
    errors.push(`push: source push needs push: { token, signingSecret: \${FERRY_PUSH_SIGNING_SECRET} }`);
  if (c.push) errors.push(...pushSigningProblems(c.push));
  errors.push(...httpProxyProblems(c));
  if (c.upstash && !/^https?:\/\//.test(c.upstash.url)) errors.push('upstash.url: must be an http(s) URL');
  errors.push(...dlqProblems(c.dlq));
  if (!/^rediss?:\/\//.test(c.redis.url)) errors.push('redis.url: must be a redis:// or rediss:// URL');
  return errors;
}

function httpProxyProblems(c: ConfigOutput): string[] {
  const p = c.httpProxy;
  if (!p) return c.source === 'http-proxy' ? ['httpProxy: source http-proxy needs httpProxy: { url }'] : [];
  const errors: string[] = [];
  const urlProblem = /[{}?]/.test(p.url)
    ? 'must be a base URL (no query, no placeholders)'
    : checkUrlTemplate(p.url);
  if (urlProblem) errors.push(`httpProxy.url: ${urlProblem}`);
  const a = p.auth;
  if (a) {
    if (a.token !== undefined && (a.username !== undefined || a.password !== undefined))
      errors.push('httpProxy.auth: use either username and password (basic) or token (bearer), not both');
    else if (a.token === undefined && (a.username === undefined || a.password === undefined))
      errors.push('httpProxy.auth: basic auth needs username and password (or give a token)');
    for (const key of ['username', 'password', 'token'] as const) {
      const value = a[key];
      const problem = value === undefined ? undefined : headerValueProblem(value);
      if (problem) errors.push(`httpProxy.auth.${key}: ${problem}`);
    }
    if (a.username?.includes(':')) errors.push('httpProxy.auth.username: must not contain ":" (basic auth)');
  }
  if (p.fetch.timeout >= p.drain.budget)
    errors.push('httpProxy.fetch.timeout: must be shorter than drain.budget');
  if (p.eventIdField !== '' && !/^[A-Za-z0-9_.$-]+$/.test(p.eventIdField))
    errors.push('httpProxy.eventIdField: must be a top-level field name or ""');
  return errors;
}

/** The HTTP Proxy credentials must come from the environment too. */
function literalProxySecrets(document: object): string[] {
  const proxy = (document as Record<string, unknown>).httpProxy;
  if (proxy === null || typeof proxy !== 'object') return [];
  const auth = (proxy as Record<string, unknown>).auth;
  if (auth === null || typeof auth !== 'object') return [];
  const errors: string[] = [];
  for (const key of ['password', 'token']) {
    const value = (auth as Record<string, unknown>)[key];
    if (value !== undefined && !(typeof value === 'string' && /^\$\{[^}]+\}$/.test(value.trim())))
      errors.push(`httpProxy.auth.${key}: must come from the environment, as \${VAR}`);
  }
  return errors;
}

/** The Kafka credentials, which must come from the environment: `${VAR}`, never written in the file. */
const KAFKA_SECRETS = [
  ['sasl', 'password'],
  ['sasl', 'token'],
  ['tls', 'keyPassphrase'],
] as const;

function literalKafkaSecrets(document: object): string[] {
  const kafka = (document as Record<string, unknown>).kafka;
  if (kafka === null || typeof kafka !== 'object') return [];
  const errors: string[] = [];
  for (const [block, key] of KAFKA_SECRETS) {
    const part = (kafka as Record<string, unknown>)[block];
    if (part === null || typeof part !== 'object') continue;
    const value = (part as Record<string, unknown>)[key];
    if (value !== undefined && !(typeof value === 'string' && /^\$\{[^}]+\}$/.test(value.trim())))
      errors.push(`kafka.${block}.${key}: must come from the environment, as \${VAR}`);
  }
  return errors;
}

/** push.signingSecret, like the Kafka secrets, only as `${VAR}` (one, several separated by spaces, or a list). */
function literalPushSecret(document: object): string[] {
  const push = (document as Record<string, unknown>).push;
  if (push === null || typeof push !== 'object') return [];
  const value = (push as Record<string, unknown>).signingSecret;
  if (value === undefined) return [];
  const fromEnv = (x: unknown) => typeof x === 'string' && /^\s*(?:\$\{[^}]+\}\s*)+$/.test(x);
  return (Array.isArray(value) ? value.every(fromEnv) : fromEnv(value))
    ? []
    : [`push.signingSecret: must come from the environment, as \${VAR} (or a list of them)`];
}

/** Validates an already-parsed document (after YAML). */
export function resolveConfig(document: unknown, env: ConfigEnv = {}): ConfigResult {
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    return { ok: false, errors: ['(root): must be a mapping with routes'] };
  // Interpolation and the schema walk the document recursively: bound it before they do.
  if (exceedsDepth(document, MAX_CONFIG_DEPTH))
    return { ok: false, errors: [`(root): nested deeper than ${MAX_CONFIG_DEPTH} levels`] };
  const literal = [
    ...literalKafkaSecrets(document),
    ...literalProxySecrets(document),
    ...literalPushSecret(document),
  ];
  if (literal.length > 0) return { ok: false, errors: literal };
  const interpolated = interpolateEnv(document, env);
  const parsed = v.safeParse(ConfigSchema, interpolated.value);
  if (!parsed.success) {
    // A value left empty by an unset variable is reported once, as the variable, not again as a
    // schema problem of the empty value.
    const unset = interpolated.errors.map((e) => e.slice(0, e.indexOf(': ') + 2));
    const errors = parsed.issues.map(issueLine).filter((line) => !unset.some((at) => line.startsWith(at)));
    return { ok: false, errors: [...new Set([...interpolated.errors, ...errors])] };
  }
  const c = parsed.output;
  const problems = [...interpolated.errors, ...crossChecks(c)];
  if (problems.length > 0) return { ok: false, errors: problems };
  return {
    ok: true,
    config: {
      instanceId: c.instanceId,
      listen: { port: c.listen.port, host: c.listen.host },
      adminToken: c.adminToken,
      source: c.source,
      push: c.push
        ? {
            token: c.push.token,
            timeoutMs: c.push.timeout,
            maxBodyBytes: c.push.maxBodyBytes,
            maxRecords: c.push.maxRecords,
            requestsPerSecond: c.push.requestsPerSecond,
            signingSecrets:
              c.push.signingSecret === undefined ? [] : splitWebhookSecrets(c.push.signingSecret),
            signatureToleranceSeconds: Math.floor(c.push.signatureTolerance / 1000),
          }
        : undefined,
      httpProxy: c.httpProxy
        ? {
            url: c.httpProxy.url.replace(/\/+$/, ''),
            group: c.httpProxy.group,
            instancePrefix: c.httpProxy.instancePrefix,
            auth: !c.httpProxy.auth
              ? undefined
              : c.httpProxy.auth.token !== undefined
                ? { kind: 'bearer', token: c.httpProxy.auth.token }
                : {
                    kind: 'basic',
                    username: c.httpProxy.auth.username as string,
                    password: c.httpProxy.auth.password as string,
                  },
            requestTimeoutMs: c.httpProxy.requestTimeout,
            fetchTimeoutMs: c.httpProxy.fetch.timeout,
            fetchMaxBytes: c.httpProxy.fetch.maxBytes,
            drainBudgetMs: c.httpProxy.drain.budget,
            drainMaxRecords: c.httpProxy.drain.maxRecords,
            drainMaxInFlight: c.httpProxy.drain.maxInFlight,
            eventIdField: c.httpProxy.eventIdField,
          }
        : undefined,
      kafka: {
        brokers: c.kafka.brokers,
        groupId: c.kafka.groupId,
        clientId: c.kafka.clientId,
        dlqTopic: c.kafka.dlqTopic,
        connection: { tls: c.kafka.tls, sasl: c.kafka.sasl },
      },
      redis: { url: c.redis.url },
      upstash: c.upstash,
      dlq: {
        to: c.dlq.to,
        url: c.dlq.url?.replace(/\/+$/, ''),
        bearer: c.dlq.bearer,
        username: c.dlq.username,
        password: c.dlq.password,
        timeoutMs: c.dlq.timeout,
      },
      http: { client: c.http.client },
      replayPerSecond: c.replay.perSecond,
      relay: {
        routes: c.routes.map((route, i) => ({
          name: route.name ?? `route-${i}`,
          topics: typeof route.topics === 'string' ? [route.topics] : route.topics,
          sinks: route.sinks.map(toSink),
        })),
        commitIntervalMs: c.commitInterval,
        revokeTimeoutMs: c.revokeTimeout,
        shutdownTimeoutMs: c.shutdownTimeout,
      },
    },
  };
}

/** Parses YAML text and validates it. */
export function parseConfig(text: string, env: ConfigEnv = {}): ConfigResult {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (e) {
    return { ok: false, errors: [`(yaml): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`] };
  }
  return resolveConfig(document, env);
}
