// The AsyncAPI 3 document of what Ferry publishes: the clean topics teams subscribe to and the two
// dead-letter topics, with message schemas generated from the same valibot contracts the transforms
// are tested against, the ferry-* headers, keys and the ordering guarantee. `npm run contracts:export`
// writes it to asyncapi.yaml next to the JSON Schema files; a test keeps the committed file current and
// validates it with the reference AsyncAPI parser.
import { toJsonSchema } from '@valibot/to-json-schema';
import { stringify } from 'yaml';
import { ERROR_CODES } from './codes.ts';
import { cleanEventSchema, type EntityContract } from './entity.ts';
import { loads } from './loads.ts';
import { shipments } from './shipments.ts';
import { trailers } from './trailers.ts';

/** The contracts' version: bumped by the rules in relay/contracts/README.md ("Versioning"). */
export const CONTRACTS_VERSION = '1.0.0';

const ENTITIES: readonly EntityContract[] = [shipments, trailers, loads];
const JSON_SCHEMA = 'application/schema+json;version=draft-07';
const KAFKA_BINDING = '0.5.0';

const ORDERING =
  'Records are keyed by the primary key in decimal, so every change of one row lands on one partition, ' +
  'in commit order (the order of `lsn`). There is no order across keys. Delivery is at least once: a ' +
  'consumer may see a record again after a restart or rebalance and must be idempotent on `eventId` ' +
  '(also the `ferry-event-id` header).';

type JsonObject = Record<string, unknown>;

const text = (description: string, extra: JsonObject = {}): JsonObject => ({
  type: 'string',
  description,
  ...extra,
});

function draft7(schema: JsonObject): JsonObject {
  // The multi-format schema object says which dialect it is; the document's own $schema is redundant.
  const { $schema: _dialect, ...rest } = schema;
  return { schemaFormat: JSON_SCHEMA, schema: rest };
}

const transformDlqHeaders: JsonObject = {
  type: 'object',
  description: 'Why the transform refused the change. The record keeps its original key, value and headers.',
  properties: {
    'ferry-error-stage': text('Always `transform`.', { const: 'transform' }),
    'ferry-error-code': text('The rule that failed (relay/contracts/codes.ts).', { enum: [...ERROR_CODES] }),
    'ferry-error-field': text('The offending field, when one is to blame (may be empty).'),
    'ferry-error-message': text('Human-readable reason.'),
    'ferry-error-source-topic': text('The CDC topic the record came from.'),
    'ferry-error-source-offset': text('Its offset there, in decimal.'),
  },
  required: [
    'ferry-error-stage',
    'ferry-error-code',
    'ferry-error-field',
    'ferry-error-message',
    'ferry-error-source-topic',
    'ferry-error-source-offset',
  ],
};

const relayDlqHeaders: JsonObject = {
  type: 'object',
  description:
    "Why the relay gave up on one sink. The record keeps the clean event's key, value and headers; a " +
    '*pointer* record (ferry-error-pointer) carries only a prefix of a value too large for the DLQ topic, ' +
    'which replay reads back from the source topic.',
  properties: {
    'ferry-error-stage': text('`relay`.', { const: 'relay' }),
    'ferry-error-code': text('Stable error code, e.g. FERRY_SINK_REJECTED or FERRY_RETRIES_EXHAUSTED.', {
      pattern: '^FERRY_[A-Z0-9_]+$',
    }),
    'ferry-error-message': text('What the sink or the client said, scrubbed of secrets.'),
    'ferry-error-sink': text('The sink id the record was not delivered to.'),
    'ferry-error-attempts': text('Delivery attempts made, in decimal.'),
    'ferry-error-source-topic': text('The clean topic the record came from.'),
    'ferry-error-source-partition': text('Its partition, in decimal.'),
    'ferry-error-source-offset': text('Its offset, in decimal.'),
    'ferry-error-first-failure-at': text('First failed attempt, ms since the epoch.'),
    'ferry-error-last-failure-at': text('Last failed attempt, ms since the epoch.'),
    'ferry-error-pointer': text('`true` on a pointer record.'),
    'ferry-error-original-size': text("The original value's size in bytes (pointer records)."),
    'ferry-error-value-sha256': text('Hex sha-256 of the original value (pointer records).'),
    'ferry-error-truncated': text('`true` when the original key or headers were left out too.'),
  },
  required: ['ferry-error-stage', 'ferry-error-code', 'ferry-error-sink', 'ferry-error-source-topic'],
};

/** The AsyncAPI 3.0 document as a plain object. */
export function asyncApiDocument(): JsonObject {
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};
  for (const c of ENTITIES) {
    const name = `${c.entity}Event`;
    const channel = `clean_${c.table}`;
    messages[name] = {
      name,
      title: `Clean ${c.entity} change`,
      summary: `A validated, enriched change of one public.${c.table} row.`,
      contentType: 'application/json',
      headers: {
        type: 'object',
        properties: {
          'ferry-event-id': text(
            "Same as the payload's eventId: pg:<table>:<lsn>:<id>. The idempotency key.",
          ),
          'ferry-schema': text('The payload schema and its major version.', { const: c.schema }),
        },
        required: ['ferry-event-id', 'ferry-schema'],
      },
      payload: draft7(toJsonSchema(cleanEventSchema(c), { errorMode: 'ignore' }) as JsonObject),
      bindings: {
        kafka: {
          key: { type: 'string', pattern: '^[1-9][0-9]*$', description: "The row's primary key in decimal." },
          schemaIdLocation: 'header',
          bindingVersion: KAFKA_BINDING,
        },
      },
    };
    channels[channel] = {
      address: `clean.${c.table}`,
      title: `clean.${c.table}`,
      description: `Clean ${c.entity} events, written by the ${c.table} transform from cdc.public.${c.table}. ${ORDERING}`,
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
      bindings: { kafka: { topic: `clean.${c.table}`, bindingVersion: KAFKA_BINDING } },
    };
    operations[`receive_${c.table}`] = {
      action: 'receive',
      title: `Subscribe to clean.${c.table}`,
      summary: `Consume clean ${c.entity} events; be idempotent on eventId.`,
      channel: { $ref: `#/channels/${channel}` },
      messages: [{ $ref: `#/channels/${channel}/messages/${name}` }],
    };
  }

  messages.transformDeadLetter = {
    name: 'transformDeadLetter',
    title: 'A CDC change the transform refused',
    contentType: 'application/json',
    headers: transformDlqHeaders,
    payload: draft7({
      description: 'The original Debezium envelope, unchanged (any JSON, or not JSON at all).',
    }),
  };
  channels.dlq_transform = {
    address: 'dlq.transform',
    title: 'dlq.transform',
    description: 'Changes that failed validation in a transform, with the reason in ferry-error-* headers.',
    messages: { transformDeadLetter: { $ref: '#/components/messages/transformDeadLetter' } },
    bindings: { kafka: { topic: 'dlq.transform', bindingVersion: KAFKA_BINDING } },
  };
  operations.receive_dlq_transform = {
    action: 'receive',
    title: 'Inspect refused changes',
    channel: { $ref: '#/channels/dlq_transform' },
    messages: [{ $ref: '#/channels/dlq_transform/messages/transformDeadLetter' }],
  };

  messages.relayDeadLetter = {
    name: 'relayDeadLetter',
    title: 'A clean event the relay could not deliver to one sink',
    contentType: 'application/json',
    headers: relayDlqHeaders,
    payload: draft7({
      description: 'The clean event as it was on its clean topic (a prefix of it on a pointer record).',
    }),
  };
  channels.dlq_relay = {
    address: 'dlq.relay',
    title: 'dlq.relay',
    description:
      'Per-sink delivery failures. `ferry relay replay <sink>` sends them again through the running relay.',
    messages: { relayDeadLetter: { $ref: '#/components/messages/relayDeadLetter' } },
    bindings: { kafka: { topic: 'dlq.relay', bindingVersion: KAFKA_BINDING } },
  };
  operations.receive_dlq_relay = {
    action: 'receive',
    title: 'Inspect undelivered events',
    channel: { $ref: '#/channels/dlq_relay' },
    messages: [{ $ref: '#/channels/dlq_relay/messages/relayDeadLetter' }],
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Ferry clean topics',
      version: CONTRACTS_VERSION,
      description:
        'What Ferry publishes for teams to subscribe to: one clean topic per supply-chain table, and the ' +
        'dead-letter topics of the transforms and the relay. Generated from relay/contracts; do not edit.',
      license: { name: 'Apache-2.0' },
    },
    defaultContentType: 'application/json',
    servers: {
      redpanda: {
        host: 'localhost:9092',
        protocol: 'kafka',
        description: "Your Redpanda (or Kafka) brokers; Ferry's local stack listens on 127.0.0.1:19092.",
      },
    },
    channels,
    operations,
    components: { messages },
  };
}

/** The document as the YAML committed at relay/contracts/asyncapi.yaml. */
export function asyncApiYaml(): string {
  return `# Generated by npm run contracts:export from relay/contracts; do not edit.\n${stringify(asyncApiDocument(), { lineWidth: 0 })}`;
}
