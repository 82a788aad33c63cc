// The short form of the chaos suite (`npm run chaos:short`): the whole pipeline under kill -9 of the
// relay and the runners, a Redis, a Kafka broker and a Connect restart, and a sink storm, must lose
// nothing and apply nothing twice, and every one of those faults must really have happened.
// It restarts the stack's services (they are healthy again when it ends): CI runs it on its own stack.
import { describe, expect, it } from 'vitest';
import { runChaos } from '../chaos/harness.ts';
import { SHORT } from '../chaos/options.ts';

describe('chaos, short form', () => {
  it('accounts for every change with zero lost and zero duplicate applications', async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const report = await runChaos({ ...SHORT, seed });
    const why = `seed ${seed} (repeat: npm run chaos:short -- --seed ${seed})\n${report.text}`;

    expect(report.ok, why).toBe(true);
    expect(report.generated, why).toBe(SHORT.count);
    for (const row of report.sinks) {
      expect(row.lost, `${row.sink}: ${why}`).toBe(0);
      expect(row.duplicateApplications, `${row.sink}: ${why}`).toBe(0);
      expect(row.orderViolations, `${row.sink}: ${why}`).toBe(0);
      expect(row.delivered, `${row.sink}: ${why}`).toBeGreaterThan(0);
      expect(
        row.delivered + row.filtered + row.deadLetteredTransform + row.deadLetteredRelay,
        `${row.sink}: every generated change has one outcome; ${why}`,
      ).toBe(row.generated);
    }

    // The faults happened, as observed: the scheduled kills hit live processes...
    const kills = Object.values(report.faults.kills).reduce((a, b) => a + b, 0);
    expect(kills, why).toBe(report.schedule.kills.length - report.faults.skippedKills);
    expect(kills, why).toBeGreaterThanOrEqual(3);
    expect(report.faults.kills.relay, why).toBeGreaterThan(0);
    // ...each service came back as a new process (Redis with its AOF and the data written before)...
    expect(
      report.faults.restarts.map((r) => [r.service, r.observed]),
      why,
    ).toEqual([
      ['redis', true],
      ['kafka', true],
      ['connect', true],
    ]);
    expect(report.faults.restarts[0]!.detail, why).toMatch(/AOF on, key written before the restart kept/);
    expect(report.faults.restarts[2]!.detail, why).toMatch(/connector RUNNING/);
    // ...and the APIs answered 5xx, 429 and let requests time out.
    const answers = report.faults.answers;
    const fiveXx = Object.entries(answers)
      .filter(([k]) => /^5\d\d$/.test(k))
      .reduce((n, [, v]) => n + v, 0);
    expect(fiveXx, why).toBeGreaterThan(0);
    expect(answers['429'] ?? 0, why).toBeGreaterThan(0);
    expect(answers.hang ?? 0, why).toBeGreaterThan(0);
    // Planning's first three answers after the storm are 400s: dead-lettered by the relay.
    expect(answers['400'], why).toBe(3);
  }, 420_000);
});
