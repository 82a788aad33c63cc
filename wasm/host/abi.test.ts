// docs/abi.md §2 and §3 (module redpanda_transform), driven through the probe guest
// (test/support/guests/probe.as), which calls the imports by hand and answers with the return codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_TS, hex, run, startProbe } from '../../test/support/probe-host.ts';
import { encodeWriteOptions } from './options.ts';
import { encodePayload } from './payload.ts';
import type { TransformHost } from './types.ts';

let host: TransformHost;
// Compiling the probe guest takes a while on a loaded machine: the hook gets more than the default 10 s.
beforeAll(async () => {
  host = await startProbe();
}, 120_000);
afterAll(async () => {
  await host.close();
});

const text = (s: string) => new TextEncoder().encode(s);
const good = hex(encodePayload({ key: text('k'), value: text('v'), headers: [{ key: 'h', value: null }] }));

describe('§3 read_batch_header', () => {
  it('writes the ten out-params and returns the largest payload size', async () => {
    const out = await run(host, ['nothing', 'header', 'nothing with a longer payload'], 100n);
    // base_offset count epoch attributes last_offset_delta base_ts max_ts producer_id producer_epoch base_seq | result
    const maxPayload = 3 + 'nothing with a longer payload'.length;
    expect(out).toEqual([`100 3 0 0 2 ${BASE_TS} ${BASE_TS + 2} -1 -1 -1 ${maxPayload}`]);
  });
  it('blocks until a batch is handed over; every later call means "previous batch done" (§2.4)', async () => {
    expect(await run(host, ['nothing'])).toEqual([]);
    expect(await run(host, ['random'])).toEqual(['0909090909090909']);
  });
  it('a second process() while one is in flight is not refused: both settle, in order', async () => {
    const order: number[] = [];
    const first = run(host, ['random']).then((r) => {
      order.push(1);
      return r;
    });
    const second = run(host, ['random']).then((r) => {
      order.push(2);
      return r;
    });
    expect(await second).toEqual(['0909090909090909']);
    expect(await first).toEqual(['0909090909090909']);
    expect(order).toEqual([1, 2]);
  });
  it('empty batches are skipped, as the broker does (§2.6)', async () => {
    expect(await host.process({ baseOffset: 0n, records: [] })).toEqual({ outputs: [] });
  });
});

describe('§3 read_next_record', () => {
  it('writes attributes, absolute timestamp and absolute offset', async () => {
    expect(await run(host, ['nothing', 'meta'], 40n)).toEqual([`0 ${BASE_TS + 1} 41`]);
  });
  it('buffer too small -> -2 and the record is not consumed; the retry gets it', async () => {
    expect(await run(host, ['small-next', 'abc'])).toEqual([`small -2 6 abc`]);
  });
  it('-1 when the batch is exhausted (never blocks) and before the first batch', async () => {
    expect(await run(host, ['extra-read'])).toEqual(['-1']);
    // prebatch: write_record and read_next_record called in _start before read_batch_header
    expect(await run(host, ['prebatch'])).toEqual(['-1 -1']);
  });
  it('the payload is copied in §5 encoding (pass-through keeps key, value and headers)', async () => {
    const record = {
      key: text('key'),
      value: text('echo'),
      headers: [
        { key: 'a', value: text('1') },
        { key: 'b', value: null },
      ],
    };
    const { outputs } = await host.process({
      baseOffset: 0n,
      records: [{ ...record, offset: 0n, timestamp: 0 }],
    });
    expect(outputs).toEqual([{ topic: 'clean.out', ...record }]);
  });
});

describe('§3 write_record', () => {
  it('returns len on success', async () => {
    expect(await run(host, [`write ${good}`])).toEqual(['v', `${good.length / 2}`]);
  });
  it('-2 for malformed payloads: length < -1, negative header count, truncation, trailing bytes', async () => {
    const cases = ['030100', '010300', '010101', '04610100', '0101', '01010000'];
    expect(
      await run(
        host,
        cases.map((c) => `write ${c}`),
      ),
    ).toEqual(cases.map(() => '-2'));
  });
});

describe('§3 write_record_with_options and §6 options', () => {
  const opts = (topic: string) => hex(encodeWriteOptions(topic));
  it('routes to a named output topic, and an empty options buffer means the default topic', async () => {
    const out = await run(host, [`opts ${good} ${opts('dlq.transform')}`, `opts ${good} `]);
    expect(out).toEqual(['dlq.transform: v', `${good.length / 2}`, 'v', `${good.length / 2}`]);
    expect(await run(host, ['to dlq.transform'])).toEqual(['dlq.transform: routed', '9']);
  });
  it('-3 when the topic is not one of the outputs', async () => {
    expect(await run(host, ['to clean.elsewhere', `opts ${good} ${opts('cdc.in')}`])).toEqual(['-3', '-3']);
  });
  it('-2 for an unknown option key or leftover bytes; the payload is checked first', async () => {
    expect(
      await run(host, [
        `opts ${good} 020161`,
        `opts ${good} ${opts('dlq.transform')}00`,
        `opts 0101 ${opts('x')}`,
      ]),
    ).toEqual(['-2', '-2', '-2']);
  });
});
