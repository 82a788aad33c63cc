// Property tests of the real .wasm transforms through the real host: random bytes, random JSON and
// randomly broken Debezium envelopes never trap the module (a trap would restart the transform on
// the same record forever in the broker, docs/abi.md §11), every record gets exactly one output, and
// the verdict (code and field) is the one the valibot contract gives the same bytes.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITIES, judgeChange } from '../../relay/contracts/index.ts';
import type { TransformHost } from '../../wasm/host/types.ts';
import { caseValue, loadCorpus, startEntityTransform, verdictOf } from '../support/transforms.ts';

const enc = new TextEncoder();
const contract = ENTITIES.shipments!;

/** Runs values as one batch; each non-null value yields exactly one output, in order. */
async function verdicts(host: TransformHost, base: bigint, values: Uint8Array[]) {
  const { outputs } = await host.process({
    baseOffset: base,
    records: values.map((value, i) => ({
      key: null,
      value,
      headers: [],
      offset: base + BigInt(i),
      timestamp: 0,
    })),
  });
  expect(outputs.length).toBe(values.length);
  return outputs.map((o) => verdictOf([o]));
}

const summary = (v: { verdict: string; code?: string; field?: string }) =>
  v.verdict === 'dlq' ? `dlq ${v.code} ${v.field}` : v.verdict;

describe('shipments transform under random input', () => {
  let host: TransformHost;
  let base = 0n;
  const valid = loadCorpus('shipments')
    .filter((c) => c.expect.verdict === 'clean' && c.expand === undefined)
    .map((c) => JSON.parse(new TextDecoder().decode(caseValue(c)!)) as Record<string, unknown>);

  beforeAll(async () => {
    host = await startEntityTransform('shipments');
  }, 120_000);
  afterAll(async () => {
    await host?.close();
  });

  async function check(values: Uint8Array[]) {
    const got = await verdicts(host, base, values);
    base += BigInt(values.length);
    got.forEach((g, i) => {
      expect(summary(g), new TextDecoder().decode(values[i])).toBe(
        summary(judgeChange(contract, values[i]!)),
      );
    });
  }

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 600 }), { minLength: 1, maxLength: 20 }),
        check,
      ),
      { numRuns: 150 },
    );
  }, 60_000);

  it('random JSON documents', async () => {
    const doc = fc.jsonValue({ maxDepth: 40 }).map((v) => enc.encode(JSON.stringify(v)));
    await fc.assert(fc.asyncProperty(fc.array(doc, { minLength: 1, maxLength: 20 }), check), {
      numRuns: 150,
    });
  }, 60_000);

  it('valid envelopes with one member replaced by random JSON', async () => {
    const mutated = fc
      .tuple(
        fc.constantFrom(...valid),
        fc.constantFrom('envelope', 'source', 'after', 'before'),
        fc.oneof(
          fc.constantFrom('op', 'source', 'after', 'before', 'lsn', 'table', 'ts_ms'),
          fc.constantFrom(...contract.fields.map((f) => f.name)),
          fc.string(),
        ),
        fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.double(), fc.integer(), fc.string({ unit: 'grapheme' })),
      )
      .map(([env, where, key, value]) => {
        const copy = structuredClone(env) as Record<string, Record<string, unknown> | unknown>;
        const target = where === 'envelope' ? copy : copy[where];
        if (typeof target === 'object' && target !== null) (target as Record<string, unknown>)[key] = value;
        return enc.encode(JSON.stringify(copy));
      });
    await fc.assert(fc.asyncProperty(fc.array(mutated, { minLength: 1, maxLength: 20 }), check), {
      numRuns: 200,
    });
  }, 60_000);

  it('valid envelopes cut at a random byte', async () => {
    const cut = fc
      .tuple(fc.constantFrom(...valid), fc.nat())
      .map(([env, n]) => {
        const bytes = enc.encode(JSON.stringify(env));
        return bytes.slice(0, n % bytes.length);
      })
      .filter((b) => b.length > 0);
    await fc.assert(fc.asyncProperty(fc.array(cut, { minLength: 1, maxLength: 20 }), check), {
      numRuns: 100,
    });
  }, 60_000);

  it('keeps running after all of it: the host saw no trap', () => {
    expect(host.stats.traps).toBe(0);
    expect(host.stats.restarts).toBe(0);
  });
});

for (const entity of ['trailers', 'loads'] as const) {
  describe(`${entity} transform under random input`, () => {
    let host: TransformHost;
    let base = 0n;
    const entityContract = ENTITIES[entity]!;
    const valid = loadCorpus(entity)
      .filter((c) => c.expect.verdict === 'clean' && c.expand === undefined)
      .map((c) => JSON.parse(new TextDecoder().decode(caseValue(c)!)) as Record<string, unknown>);

    beforeAll(async () => {
      host = await startEntityTransform(entity);
    }, 120_000);
    afterAll(async () => {
      await host?.close();
    });

    it('valid envelopes with one member replaced by random JSON agree with the contract', async () => {
      const mutated = fc
        .tuple(
          fc.constantFrom(...valid),
          fc.constantFrom('source', 'after', 'before'),
          fc.constantFrom(...entityContract.fields.map((f) => f.name), 'lsn', 'table', 'ts_ms'),
          fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.double(), fc.integer(), fc.string()),
        )
        .map(([env, where, key, value]) => {
          const copy = structuredClone(env) as Record<string, unknown>;
          const target = copy[where];
          if (typeof target === 'object' && target !== null) (target as Record<string, unknown>)[key] = value;
          return enc.encode(JSON.stringify(copy));
        });
      await fc.assert(
        fc.asyncProperty(fc.array(mutated, { minLength: 1, maxLength: 20 }), async (values) => {
          const got = await verdicts(host, base, values);
          base += BigInt(values.length);
          got.forEach((g, i) => {
            expect(summary(g)).toBe(summary(judgeChange(entityContract, values[i]!)));
          });
        }),
        { numRuns: 100 },
      );
      expect(host.stats.traps).toBe(0);
    }, 60_000);
  });
}
