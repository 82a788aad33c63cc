import { describe, expect, it } from 'vitest';
import type { Logger } from '../core/contracts.ts';
import { createRegistry } from '../metrics/registry.ts';
import { createRejoinWatchdog, type RejoinWatchdogOptions } from './kafka-source-rejoin.ts';

/** A watchdog on a fake clock and a fake sleep that records its delays and returns at once. */
function setup(over: Partial<RejoinWatchdogOptions> & { failures?: number } = {}) {
  let t = 1_000_000;
  let member = false;
  let failures = over.failures ?? 0;
  const joins: number[] = [];
  const sleeps: number[] = [];
  const lines: string[] = [];
  let lost = 0;
  const metrics = createRegistry();
  const logger: Logger = {
    info: (m, f) => lines.push(`info ${m} ${JSON.stringify(f)}`),
    warn: (m, f) => lines.push(`warn ${m} ${JSON.stringify(f)}`),
    error: (m, f) => lines.push(`error ${m} ${JSON.stringify(f)}`),
  };
  const watchdog = createRejoinWatchdog({
    groupId: 'g',
    isMember: () => member,
    join: async () => {
      joins.push(t);
      if (failures > 0) {
        failures--;
        throw new Error('joinGroup failed 6 times.');
      }
      member = true;
    },
    onLost: () => {
      lost++;
    },
    graceMs: 25_000,
    backoffMs: 500,
    backoffCapMs: 15_000,
    logger,
    metrics,
    now: () => t,
    random: () => 1,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    ...over,
  });
  return {
    watchdog,
    metrics,
    joins,
    sleeps,
    lines,
    lost: () => lost,
    advance: (ms: number) => {
      t += ms;
    },
    setMember: (m: boolean) => {
      member = m;
    },
    count: (result: string) => metrics.value('ferry_kafka_rejoin_attempts_total', { result }) ?? 0,
    gauge: () => metrics.value('ferry_kafka_group_member'),
  };
}

describe('kafka source rejoin watchdog', () => {
  it('does nothing while the consumer is a member', async () => {
    const s = setup();
    s.setMember(true);
    s.watchdog.check(true);
    s.watchdog.check(false);
    await s.watchdog.settled();
    expect(s.joins).toEqual([]);
    expect(s.gauge()).toBe(1);
  });

  it('waits out the grace period when inactive (a join may be in flight), then rejoins once', async () => {
    const s = setup();
    s.watchdog.check();
    s.advance(24_999);
    s.watchdog.check();
    expect(s.watchdog.rejoining()).toBe(false);
    s.advance(1);
    s.watchdog.check();
    expect(s.watchdog.rejoining()).toBe(true);
    await s.watchdog.settled();
    expect(s.lost()).toBe(1);
    expect(s.joins).toHaveLength(1);
    expect(s.count('ok')).toBe(1);
    expect(s.gauge()).toBe(1);
    expect(s.lines[0]).toContain('membership lost');
    expect(s.lines[0]).toContain('not a member for 25000 ms');
  });

  it("rejoins at once when the client's own background rejoin ended without membership", async () => {
    const s = setup();
    s.watchdog.check(true);
    await s.watchdog.settled();
    expect(s.joins).toHaveLength(1);
    expect(s.lines[0]).toContain('background rejoin failed');
  });

  it('rejoins at once when inactive with no join of the client in flight, waits while one is', async () => {
    let inFlight = true;
    const s = setup({ joinInFlight: () => inFlight });
    s.watchdog.check();
    s.advance(5_000);
    s.watchdog.check();
    expect(s.watchdog.rejoining()).toBe(false);
    inFlight = false;
    s.watchdog.check();
    expect(s.watchdog.rejoining()).toBe(true);
    await s.watchdog.settled();
    expect(s.joins).toHaveLength(1);
    expect(s.lines[0]).toContain('no join in flight');
  });

  it('backs off exponentially with jitter up to the cap, logging every attempt and outcome', async () => {
    const s = setup({ failures: 8 });
    s.watchdog.check(true);
    await s.watchdog.settled();
    expect(s.joins).toHaveLength(9);
    // random() = 1: the top of each [d/2, d] window.
    expect(s.sleeps).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
    expect(s.count('failed')).toBe(8);
    expect(s.count('ok')).toBe(1);
    expect(s.lines.filter((l) => l.includes('kafka group rejoin attempt'))).toHaveLength(9);
    expect(s.lines.filter((l) => l.includes('kafka group rejoin failed'))).toHaveLength(8);
    expect(s.lines.filter((l) => l.includes('kafka group rejoined'))).toHaveLength(1);
  });

  it('draws each delay within [d/2, d]', async () => {
    const s = setup({ failures: 3, random: () => 0 });
    s.watchdog.check(true);
    await s.watchdog.settled();
    expect(s.sleeps).toEqual([250, 500, 1000]);
  });

  it('runs one rejoin at a time however often it is poked', async () => {
    let release: () => void = () => {};
    let joins = 0;
    let member = false;
    const s = setup({
      isMember: () => member,
      join: () => {
        joins++;
        return new Promise<void>((r) => {
          release = () => {
            member = true;
            r();
          };
        });
      },
    });
    s.watchdog.check(true);
    for (let i = 0; i < 10; i++) s.watchdog.check(true);
    await Promise.resolve();
    expect(joins).toBe(1);
    release();
    await s.watchdog.settled();
    expect(joins).toBe(1);
    expect(s.lost()).toBe(1);
  });

  it('an episode right after the previous one starts with a backoff (no hot loop)', async () => {
    const s = setup();
    s.watchdog.check(true);
    await s.watchdog.settled();
    s.setMember(false);
    s.watchdog.check(true);
    await s.watchdog.settled();
    expect(s.joins).toHaveLength(2);
    expect(s.sleeps).toEqual([1000]);
    expect(s.joins[1]! - s.joins[0]!).toBeGreaterThanOrEqual(500);
  });

  it('makes no further attempt once the client got back in by itself during a backoff', async () => {
    let member = false;
    let joins = 0;
    const s = setup({
      isMember: () => member,
      join: async () => {
        joins++;
        throw new Error('joinGroup failed 6 times.');
      },
      sleep: async () => {
        member = true; // a commit's own rejoin succeeded meanwhile
      },
    });
    s.watchdog.check(true);
    await s.watchdog.settled();
    expect(joins).toBe(1);
    expect(s.count('failed')).toBe(1);
    expect(s.count('ok')).toBe(0);
    expect(s.gauge()).toBe(1);
    expect(s.lines.at(-1)).toContain('membership back without a watchdog rejoin');
  });

  it('stops on close: a sleeping backoff is woken and no further attempt is made', async () => {
    let wakeSignal: AbortSignal | undefined;
    let sleeping: () => void = () => {};
    const s = setup({
      failures: 100,
      sleep: (_ms, wake) =>
        new Promise<void>((r) => {
          wakeSignal = wake;
          sleeping = r;
          wake.addEventListener('abort', () => r());
        }),
    });
    s.watchdog.check(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(s.joins).toHaveLength(1);
    expect(wakeSignal?.aborted).toBe(false);
    s.watchdog.stop();
    await s.watchdog.settled();
    sleeping();
    expect(s.joins).toHaveLength(1);
    s.watchdog.check(true);
    expect(s.watchdog.rejoining()).toBe(false);
    expect(s.gauge()).toBe(0);
  });

  it('a join that ends after close is not counted as a rejoin', async () => {
    let release: () => void = () => {};
    const s = setup({ join: () => new Promise<void>((r) => (release = r)) });
    s.watchdog.check(true);
    s.watchdog.stop();
    release();
    await s.watchdog.settled();
    expect(s.count('ok')).toBe(0);
    expect(s.count('failed')).toBe(0);
  });
});
