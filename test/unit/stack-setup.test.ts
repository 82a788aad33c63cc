// The integration global setup refuses to run against a stack that is not fully up, and says how to fix it.
import { describe, expect, it } from 'vitest';
import type { ServiceStatus } from '../../deploy/local/stack.ts';
import { stackProblems } from '../support/stack-setup.ts';

const healthy: ServiceStatus[] = [
  { service: 'postgres', port: 15432, pid: 1, state: 'healthy', detail: 'wal_level=logical' },
  { service: 'redis', port: 16379, pid: 2, state: 'healthy', detail: '+PONG' },
  { service: 'kafka', port: 19092, pid: 3, state: 'healthy', detail: '1 broker' },
  { service: 'connect', port: 18083, pid: 4, state: 'healthy', detail: 'Kafka Connect 4.1.1' },
];

describe('integration global setup', () => {
  it('passes when every service is healthy and the connector runs', () => {
    expect(stackProblems(healthy, 'RUNNING (task 0 RUNNING)')).toBeUndefined();
  });

  it('names each unhealthy service and says to run bin/ferry stack up', () => {
    const rows = healthy.map((r) =>
      r.service === 'kafka' ? { ...r, pid: undefined, state: 'stopped' as const, detail: 'ECONNREFUSED' } : r,
    );
    const message = stackProblems(rows, 'unknown (Connect not reachable)')!;
    expect(message).toMatch(/kafka\s+port 19092: stopped \(ECONNREFUSED\)/);
    expect(message).toMatch(/connector ferry-supply-chain: unknown/);
    expect(message).toMatch(/bin\/ferry stack up/);
    expect(message).not.toMatch(/postgres/);
  });

  it('fails on a failed connector task even when all processes are healthy', () => {
    expect(stackProblems(healthy, 'RUNNING (task 0 FAILED)')).toMatch(/task 0 FAILED/);
  });
});
