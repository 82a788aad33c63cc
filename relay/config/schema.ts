// The relay's config file, as one valibot schema: field names, defaults and constraints in one place.
// Strict objects, so a misspelt key is an error rather than a silently ignored setting.
// Durations accept milliseconds or `250ms` / `5s` / `2m` / `24h` / `7d`. Numbers and booleans also
// accept their text (`port: "${PORT}"`), since `${ENV}` interpolation always produces a string.
import * as v from 'valibot';
import { parseDuration } from './duration.ts';

const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** A number, or a string holding one (from the environment). */
const num = (message: string) =>
  v.pipe(
    v.union([v.number(), v.string()], message),
    v.transform((x): unknown => (typeof x === 'string' && NUMERIC.test(x) ? Number(x) : x)),
    v.number(message),
  );

/** A boolean, or the string `true` / `false` (from the environment). */
const bool = (message: string) =>
  v.pipe(
    v.union([v.boolean(), v.string()], message),
    v.transform((x): unknown => (x === 'true' ? true : x === 'false' ? false : x)),
    v.boolean(message),
  );

const duration = (fallback: number | string) =>
  v.optional(
    v.pipe(
      v.union([v.number(), v.string()], 'must be a duration (ms or e.g. 250ms, 5s, 2m)'),
      v.check((x) => parseDuration(x) !== undefined, 'must be a duration (ms or e.g. 250ms, 5s, 2m)'),
      v.transform((x) => parseDuration(x) as number),
    ),
    fallback,
  );

const positiveInt = (fallback: number, what = 'a positive integer') =>
  v.optional(
    v.pipe(num(`must be ${what}`), v.integer(`must be ${what}`), v.minValue(1, `must be ${what}`)),
    fallback,
  );

const nonEmpty = (what: string) => v.pipe(v.string(`must be ${what}`), v.minLength(1, `must be ${what}`));

const Predicate = v.union(
  [
    v.strictObject({ field: nonEmpty('a field path'), eq: v.unknown() }),
    v.strictObject({ field: nonEmpty('a field path'), ne: v.unknown() }),
    v.strictObject({ field: nonEmpty('a field path'), in: v.array(v.unknown()) }),
    v.strictObject({ field: nonEmpty('a field path'), exists: bool('must be true or false') }),
    v.strictObject({ field: nonEmpty('a field path'), gt: num('must be a number') }),
    v.strictObject({ field: nonEmpty('a field path'), gte: num('must be a number') }),
    v.strictObject({ field: nonEmpty('a field path'), lt: num('must be a number') }),
    v.strictObject({ field: nonEmpty('a field path'), lte: num('must be a number') }),
  ],
  'must be { field, eq | ne | in | exists | gt | gte | lt | lte }',
);

const Retry = v.optional(
  v.strictObject({
    attempts: positiveInt(5),
    backoffBase: duration('100ms'),
    backoffCap: duration('10s'),
    jitter: v.optional(v.picklist(['full', 'none'], 'must be full or none'), 'full'),
  }),
  {},
);

const Breaker = v.optional(
  v.strictObject({
    mode: v.optional(
      v.picklist(['consecutive', 'sampling'], 'must be consecutive or sampling'),
      'consecutive',
    ),
    /** consecutive: failures in a row; sampling: failure ratio (0..1]. */
    threshold: v.optional(v.pipe(num('must be a number'), v.gtValue(0, 'must be > 0')), 10),
    window: duration('10s'),
    minimumRps: v.optional(v.pipe(num('must be a number'), v.minValue(0, 'must be >= 0')), 5),
    halfOpenAfter: duration('5s'),
  }),
  {},
);

const Dedupe = v.optional(
  v.union(
    [
      v.literal(false),
      v.pipe(
        v.literal('false'),
        v.transform((): false => false),
      ),
      v.strictObject({
        store: v.optional(
          v.picklist(['redis', 'upstash', 'memory'], 'must be redis, upstash or memory'),
          'redis',
        ),
        ttl: duration('7d'),
        lease: duration('30s'),
        onUnavailable: v.optional(v.picklist(['deliver', 'block'], 'must be deliver or block'), 'block'),
      }),
    ],
    'must be false or { store, ttl, lease, onUnavailable }',
  ),
  {},
);

/** Keys valibot's `v.record` leaves out without a word (they could reach an object's prototype). */
const DROPPED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A map of names to values, refusing what `v.record` alone would take silently: an array (as a map of
 * indexes) or a `__proto__`, `constructor` or `prototype` key (dropped from the result).
 */
const nameMap = <T extends v.GenericSchema<unknown, unknown>>(value: T, what: string) =>
  v.pipe(
    v.custom<Record<string, unknown>>(
      (x) => x !== null && typeof x === 'object' && !Array.isArray(x),
      `must be a map of ${what}`,
    ),
    v.check(
      (x) => !Object.keys(x).some((k) => DROPPED_KEYS.has(k)),
      'cannot use __proto__, constructor or prototype as a name',
    ),
    v.record(v.string(), value),
  );

const Body = v.optional(
  v.union(
    [
      v.literal('value'),
      v.strictObject({ project: nameMap(nonEmpty('a field path'), 'names to field paths') }),
    ],
    'must be "value" or { project: { name: field.path } }',
  ),
  'value',
);

export const SinkSchema = v.strictObject({
  id: v.pipe(nonEmpty('a sink id'), v.regex(/^[A-Za-z0-9_.-]+$/, 'must use letters, digits, _ . - only')),
  url: nonEmpty('an http(s) URL'),
  method: v.optional(
    v.picklist(['POST', 'PUT', 'PATCH', 'DELETE', 'GET'], 'must be POST, PUT, PATCH, DELETE or GET'),
    'POST',
  ),
  headers: v.optional(nameMap(v.string('must be a string'), 'header names to values'), {}),
  auth: v.optional(
    v.strictObject({
      bearer: v.optional(nonEmpty('a token')),
      webhookSecret: v.optional(nonEmpty('a Standard Webhooks secret (whsec_...)')),
    }),
    {},
  ),
  body: Body,
  timeout: duration('10s'),
  retry: Retry,
  breaker: Breaker,
  bulkhead: v.optional(v.strictObject({ maxInFlight: positiveInt(64), buffer: positiveInt(2000) }), {}),
  rateLimit: v.optional(
    v.strictObject({ perSecond: v.pipe(num('must be a number'), v.gtValue(0, 'must be > 0')) }),
  ),
  onOpen: v.optional(v.picklist(['pause', 'deadletter'], 'must be pause or deadletter'), 'pause'),
  onExhausted: v.optional(v.picklist(['deadletter', 'block'], 'must be deadletter or block'), 'deadletter'),
  parkFor: duration('30s'),
  dedupe: Dedupe,
  filter: v.optional(v.array(Predicate), []),
});

export const RouteSchema = v.strictObject({
  name: v.optional(v.string()),
  topics: v.union(
    [
      nonEmpty('a topic'),
      v.pipe(v.array(nonEmpty('a topic')), v.minLength(1, 'must list at least one topic')),
    ],
    'must be a topic or a list of topics',
  ),
  sinks: v.pipe(
    v.array(SinkSchema, 'must be a list of sinks'),
    v.minLength(1, 'must list at least one sink'),
  ),
});

export const ConfigSchema = v.strictObject({
  instanceId: v.optional(nonEmpty('an instance id')),
  listen: v.optional(
    v.strictObject({
      port: v.optional(
        v.pipe(
          num('must be a port number'),
          v.integer('must be a port number'),
          v.minValue(0, 'must be a port number'),
          v.maxValue(65535, 'must be a port number'),
        ),
        8787,
      ),
      host: v.optional(v.string(), '0.0.0.0'),
    }),
    {},
  ),
  adminToken: v.optional(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'))),
  /**
   * kafka: a consumer group; push: records arrive on POST /push/batches (edge, tests); http-proxy:
   * bounded drains from Redpanda's HTTP Proxy, run by a schedule (edge cron triggers).
   */
  source: v.optional(
    v.picklist(['kafka', 'push', 'http-proxy'], 'must be kafka, push or http-proxy'),
    'kafka',
  ),
  push: v.optional(
    v.strictObject({
      token: v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters')),
      timeout: duration('30s'),
      /** Largest request body in bytes, counted while it streams in (413 beyond it). */
      maxBodyBytes: positiveInt(4 * 1024 * 1024),
      /** Most records in one batch (413 beyond it). */
      maxRecords: positiveInt(1000),
      /** Pushes per second per token, in bursts of that many (429 with Retry-After beyond it). */
      requestsPerSecond: v.optional(v.pipe(v.number('must be a number'), v.gtValue(0, 'must be > 0')), 50),
      /**
       * Standard Webhooks secret(s) every push must be signed with (`whsec_...`, from the environment);
       * a list, or several separated by spaces, while a secret is rotated.
       */
      signingSecret: v.optional(
        v.union(
          [nonEmpty('a whsec_ secret'), v.pipe(v.array(nonEmpty('a whsec_ secret')), v.minLength(1))],
          'must be a whsec_ secret or a list of them',
        ),
      ),
      /** How far a push's webhook-timestamp may be from now, either way. */
      signatureTolerance: duration('5m'),
      /** Accept pushes with the bearer token alone (no signingSecret): an explicit choice, never the default. */
      unsigned: v.optional(bool('must be true or false'), false),
    }),
  ),
  httpProxy: v.optional(
    v.strictObject({
      /** Base URL of Redpanda's HTTP Proxy (port 8082 by default), http(s), no credentials. */
      url: nonEmpty('an http(s) URL'),
      group: v.optional(nonEmpty('a consumer group id'), 'ferry-edge'),
      /** Instance name: `<instancePrefix>-<instanceId>`; one per deployment slot. */
      instancePrefix: v.optional(
        v.pipe(
          nonEmpty('a name prefix'),
          v.regex(/^[A-Za-z0-9_.-]+$/, 'must use letters, digits, _ . - only'),
        ),
        'ferry',
      ),
      /** Basic auth (username + password) or a bearer token; secrets as `${VAR}` only. */
      auth: v.optional(
        v.strictObject({
          username: v.optional(nonEmpty('a user name')),
          password: v.optional(nonEmpty('a password')),
          token: v.optional(nonEmpty('a token')),
        }),
      ),
      /** One request's limit (a fetch adds its long-poll time to it). */
      requestTimeout: duration('10s'),
      fetch: v.optional(
        v.strictObject({
          /** Long-poll time of one fetch (Redpanda caps it at consumer_request_timeout_ms). */
          timeout: duration('1s'),
          maxBytes: positiveInt(1024 * 1024),
        }),
        {},
      ),
      drain: v.optional(
        v.strictObject({
          /** Wall time of one drain, from creating the instance to deleting it. */
          budget: duration('20s'),
          /** Records one drain fetches at most. */
          maxRecords: positiveInt(5000),
          /** Records handed to the relay and not yet terminal, at most (then fetching waits). */
          maxInFlight: positiveInt(1000),
        }),
        {},
      ),
      /** Top-level value field holding the event id (the proxy drops headers); "" for none. */
      eventIdField: v.optional(v.string('must be a field name or ""'), 'eventId'),
    }),
  ),
  kafka: v.optional(
    v.strictObject({
      brokers: v.optional(
        v.pipe(v.array(nonEmpty('host:port')), v.minLength(1, 'must list at least one broker')),
        ['127.0.0.1:19092'],
      ),
      groupId: v.optional(nonEmpty('a consumer group id'), 'ferry-relay'),
      clientId: v.optional(nonEmpty('a client id'), 'ferry-relay'),
      dlqTopic: v.optional(nonEmpty('a topic'), 'dlq.relay'),
      /** TLS to the brokers: `true` (Node's CA roots) or files for a private CA and mTLS. */
      tls: v.optional(
        v.union(
          [
            v.pipe(
              bool('must be true, false or { ca, cert, key, keyPassphrase, serverName }'),
              v.transform((on) => (on ? {} : undefined)),
            ),
            v.strictObject({
              ca: v.optional(nonEmpty('a PEM file path')),
              cert: v.optional(nonEmpty('a PEM file path')),
              key: v.optional(nonEmpty('a PEM file path')),
              keyPassphrase: v.optional(nonEmpty('a passphrase')),
              serverName: v.optional(nonEmpty('a host name')),
            }),
          ],
          'must be true, false or { ca, cert, key, keyPassphrase, serverName }',
        ),
      ),
      sasl: v.optional(
        v.strictObject({
          mechanism: v.picklist(
            ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'],
            'must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER',
          ),
          username: v.optional(nonEmpty('a user name')),
          password: v.optional(nonEmpty('a password')),
          token: v.optional(nonEmpty('a token')),
        }),
      ),
    }),
    {},
  ),
  redis: v.optional(
    v.strictObject({ url: v.optional(nonEmpty('a redis:// URL'), 'redis://127.0.0.1:16379') }),
    {},
  ),
  upstash: v.optional(v.strictObject({ url: nonEmpty('an http(s) URL'), token: nonEmpty('a token') })),
  /**
   * Where dead letters go. kafka (default): a Kafka producer to kafka.dlqTopic (long-lived relays).
   * http-proxy: Redpanda's HTTP Proxy produce API (POST <url>/topics/<kafka.dlqTopic>); url: one JSON
   * dead letter POSTed to <url> per record. The edge relay needs http-proxy or url (no Kafka client).
   */
  dlq: v.optional(
    v.strictObject({
      to: v.optional(v.picklist(['kafka', 'http-proxy', 'url'], 'must be kafka, http-proxy or url'), 'kafka'),
      url: v.optional(nonEmpty('an http(s) URL')),
      /** Bearer token (a DLQ sink URL); or username + password for HTTP Basic (Redpanda's proxy). */
      bearer: v.optional(nonEmpty('a token')),
      username: v.optional(nonEmpty('a user name')),
      password: v.optional(nonEmpty('a password')),
      timeout: duration('10s'),
    }),
    {},
  ),
  http: v.optional(
    v.strictObject({ client: v.optional(v.picklist(['undici', 'fetch'], 'must be undici or fetch')) }),
    {},
  ),
  commitInterval: duration('1s'),
  revokeTimeout: duration('10s'),
  shutdownTimeout: duration('15s'),
  replay: v.optional(
    v.strictObject({
      perSecond: v.optional(v.pipe(num('must be a number'), v.gtValue(0, 'must be > 0')), 100),
    }),
    {},
  ),
  routes: v.pipe(
    v.array(RouteSchema, 'must be a list of routes'),
    v.minLength(1, 'must list at least one route'),
  ),
});

export type ConfigInput = v.InferInput<typeof ConfigSchema>;
export type ConfigOutput = v.InferOutput<typeof ConfigSchema>;
