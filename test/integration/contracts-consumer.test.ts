// The contracts package as a subscribing team uses it: packed from the repo, installed from its
// tarball into a consumer folder, and used by examples/consumer/consume.ts on Node and on Deno to read
// a clean topic from the real Kafka, validate each event, skip a redelivered event id and commit.
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer } from '@platformatic/kafka';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanShipmentSchema } from '../../relay/contracts/index.ts';
import { ROOT } from '../support/ferry-cli.ts';
import { KAFKA_BOOTSTRAP } from '../support/kafka.ts';
import { createTopic, deleteTopics } from '../support/relay-kafka.ts';

const DENO = join(ROOT, 'node_modules', '.bin', 'deno');

interface Line {
  outcome: 'valid' | 'invalid' | 'duplicate';
  eventId?: string;
  issues?: string[];
}

/**
 * Clean shipment events: the first one of the transforms' corpus (what the shipments transform really
 * writes), as three different rows.
 */
function shipmentEvents(): Array<Record<string, unknown>> {
  const base = readFileSync(join(ROOT, 'test/fixtures/corpus/shipments.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { expect: { verdict: string }; event?: Record<string, unknown> })
    .find((c) => c.expect.verdict === 'clean' && c.event)!.event!;
  return [1, 2, 3].map((n) => {
    const id = 7000 + n;
    return {
      ...base,
      id,
      eventId: `pg:shipments:${String(base.lsn)}:${id}`,
      data: { ...(base.data as object), id },
    };
  });
}

let dir = '';
let topic = '';
let valid: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-consumer-'));
  // Pack the package as a team would receive it, and install it from the tarball.
  const out = execFileSync(process.execPath, ['relay/contracts/pack.ts', '--out', join(dir, 'packages')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const tarball = out.trim().split('\n').at(-1)!;
  const app = join(dir, 'app');
  mkdirSync(join(app, 'node_modules', '@ferry'), { recursive: true });
  mkdirSync(join(app, 'node_modules', '@platformatic'), { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', join(app, 'node_modules', '@ferry')]);
  renameSync(
    join(app, 'node_modules', '@ferry', 'package'),
    join(app, 'node_modules', '@ferry', 'contracts'),
  );
  // The two public dependencies, as npm would install them (the versions the example pins).
  symlinkSync(join(ROOT, 'node_modules', 'valibot'), join(app, 'node_modules', 'valibot'));
  symlinkSync(
    join(ROOT, 'node_modules', '@platformatic', 'kafka'),
    join(app, 'node_modules', '@platformatic', 'kafka'),
  );
  for (const f of ['consume.ts', 'package.json']) cpSync(join(ROOT, 'examples/consumer', f), join(app, f));

  valid = shipmentEvents();
  for (const e of valid) expect(v.safeParse(cleanShipmentSchema, e).success).toBe(true);
  topic = await createTopic('clean.shipments.consumer', 3);
  const producer = new Producer({
    clientId: 'ferry-test-consumer',
    bootstrapBrokers: [KAFKA_BOOTSTRAP],
    acks: -1,
  });
  const record = (e: Record<string, unknown>) => ({
    topic,
    key: Buffer.from(String(e.id)),
    value: Buffer.from(JSON.stringify(e)),
    headers: new Map([[Buffer.from('ferry-event-id'), Buffer.from(String(e.eventId))]]),
  });
  try {
    await producer.send({
      messages: [
        ...valid.map(record),
        // A redelivery of the first event (same key, so after it on its partition).
        record(valid[0]!),
        // An event that breaks the contract: a status the life cycle does not have.
        record({ ...valid[1]!, eventId: 'pg:shipments:1:999', id: 999, previousStatus: 'lost_at_sea' }),
      ],
    });
  } finally {
    await producer.close();
  }
}, 120_000);

afterAll(async () => {
  await deleteTopics(topic);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function consume(
  command: string,
  args: string[],
): Promise<{ code: number | null; lines: Line[]; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: join(dir, 'app'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`consumer did not stop within 90 s\n${err}`));
    }, 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line);
      resolve({ code, lines, err });
    });
  });
}

const flags = (group: string) => [
  '--bootstrap-server',
  KAFKA_BOOTSTRAP,
  '--topic',
  topic,
  '--group',
  group,
  '--max-records',
  String(valid.length + 2),
];

describe.each([
  ['node', () => [process.execPath, ['consume.ts']] as const],
  // --allow-read of the repo's node_modules too: the test links the Kafka client from there, where an
  // installed consumer has it in its own folder (the README's `--allow-read=.`).
  [
    'deno',
    () =>
      [
        DENO,
        [
          'run',
          '--allow-net=127.0.0.1',
          '--allow-env',
          `--allow-read=.,${realpathSync(join(ROOT, 'node_modules'))}`,
          'consume.ts',
        ],
      ] as const,
  ],
])('the consumer example on %s', (runtime, command) => {
  it('validates every event with the packed contract, skips the redelivery, and commits', async () => {
    const [bin, args] = command();
    const group = `consumer-${runtime}-${topic}`;
    const first = await consume(bin, [...args, ...flags(group)]);
    expect(first.code, first.err).toBe(0);
    const by = (o: Line['outcome']) => first.lines.filter((l) => l.outcome === o);
    expect(
      by('valid')
        .map((l) => l.eventId)
        .sort(),
    ).toEqual(valid.map((e) => String(e.eventId)).sort());
    expect(by('duplicate').map((l) => l.eventId)).toEqual([String(valid[0]!.eventId)]);
    expect(by('invalid')).toHaveLength(1);
    expect(by('invalid')[0]!.issues!.join(' ')).toContain('previousStatus');
    expect(JSON.parse(first.err.trim().split('\n').at(-1)!)).toEqual({
      summary: { valid: valid.length, invalid: 1, duplicate: 1 },
    });

    // Everything was committed: the group starts again at the end and reads nothing more.
    const again = await consume(bin, [...args, ...flags(group), '--idle-timeout', '3000']);
    expect(again.code, again.err).toBe(0);
    expect(again.lines).toEqual([]);
  }, 180_000);
});
