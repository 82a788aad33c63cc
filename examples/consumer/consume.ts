// A team's consumer of clean.shipments: reads the topic in its own consumer group, validates each
// event with the published contract, handles each event id once, and commits after handling. Runs
// unchanged on Node (>= 22.18, which runs TypeScript) and on Deno. One JSON line per record on stdout,
// a summary on stderr at the end.
//
//   node consume.ts --bootstrap-server 127.0.0.1:19092 --topic clean.shipments --group my-team
//   deno run --allow-net --allow-env --allow-read=. consume.ts --max-records 100
import { parseArgs } from 'node:util';
import { type CleanEvent, cleanShipmentSchema } from '@ferry/contracts';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import * as v from 'valibot';

const { values } = parseArgs({
  options: {
    'bootstrap-server': { type: 'string', default: '127.0.0.1:19092' },
    topic: { type: 'string', default: 'clean.shipments' },
    group: { type: 'string', default: 'ferry-consumer-example' },
    'max-records': { type: 'string' },
    'idle-timeout': { type: 'string', default: '30000' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'usage: consume.ts [--bootstrap-server host:port] [--topic clean.shipments] [--group id]\n' +
      '                  [--max-records n] [--idle-timeout ms]   (stops after n records or ms without one)',
  );
  process.exit(0);
}
const maxRecords =
  values['max-records'] === undefined ? Number.POSITIVE_INFINITY : Number(values['max-records']);
const idleMs = Number(values['idle-timeout']);

/** What this team does with a valid event; here it prints it. Keep it idempotent on eventId. */
function handle(event: CleanEvent): void {
  console.log(JSON.stringify({ outcome: 'valid', eventId: event.eventId, op: event.op, id: event.id }));
}

const consumer = new Consumer({
  clientId: 'ferry-consumer-example',
  groupId: values.group,
  bootstrapBrokers: values['bootstrap-server'].split(','),
  deserializers: stringDeserializers,
  maxWaitTime: 500,
});
const stream = await consumer.consume({
  topics: [values.topic],
  mode: 'committed',
  fallbackMode: 'earliest',
  autocommit: false,
});

// At-least-once delivery means a record can come again after a restart: remember what was handled.
// (A real consumer keeps this in its own store, in the same transaction as its effect.)
const handled = new Set<string>();
const counts = { valid: 0, invalid: 0, duplicate: 0 };
let idle = setTimeout(() => stream.close(), idleMs);
for await (const m of stream) {
  clearTimeout(idle);
  let value: unknown;
  try {
    value = JSON.parse(m.value ?? 'null');
  } catch {
    value = m.value;
  }
  const result = v.safeParse(cleanShipmentSchema, value);
  if (!result.success) {
    counts.invalid++;
    const issues = result.issues.map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`);
    console.log(
      JSON.stringify({ outcome: 'invalid', partition: m.partition, offset: String(m.offset), issues }),
    );
  } else if (handled.has(result.output.eventId)) {
    counts.duplicate++;
    console.log(JSON.stringify({ outcome: 'duplicate', eventId: result.output.eventId }));
  } else {
    handle(result.output);
    handled.add(result.output.eventId);
    counts.valid++;
  }
  await m.commit();
  if (counts.valid + counts.invalid + counts.duplicate >= maxRecords) break;
  idle = setTimeout(() => stream.close(), idleMs);
}
clearTimeout(idle);
await stream.close();
await consumer.close();
console.error(JSON.stringify({ summary: counts }));
