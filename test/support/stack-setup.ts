// vitest global setup for the `integration` project: the local stack must be up and healthy
// (PostgreSQL, Redis, Kafka, Kafka Connect with the Debezium connector RUNNING). If it is not, fail
// at once with what is wrong and how to fix it; tests are never skipped silently.
import { connectorState, stackStatus } from '../../deploy/local/stack.ts';

export default async function stackSetup(): Promise<void> {
  const rows = await stackStatus();
  const connector = await connectorState();
  const bad = rows.filter((r) => r.state !== 'healthy');
  const connectorOk = connector.startsWith('RUNNING') && !connector.includes('FAILED');
  if (bad.length === 0 && connectorOk) return;
  const lines = [
    ...bad.map((r) => `  ${r.service.padEnd(9)} port ${r.port}: ${r.state} (${r.detail})`),
    ...(connectorOk ? [] : [`  connector ferry-supply-chain: ${connector}`]),
  ];
  throw new Error(
    `The local stack is not up, so integration tests cannot run:\n${lines.join('\n')}\n\n` +
      'Start it with:  bin/ferry stack up   (then `bin/ferry stack status` should show every service healthy)',
  );
}
