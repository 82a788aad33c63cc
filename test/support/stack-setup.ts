// vitest global setup for the `integration` project: the local stack must be up and healthy
// (PostgreSQL, Redis, Kafka, Kafka Connect with the Debezium connector RUNNING). If it is not, fail
// at once with what is wrong and how to fix it; tests are never skipped silently.
import { connectorState, type ServiceStatus, stackStatus } from '../../deploy/local/stack.ts';

/** What is wrong with the stack, as a message for a person, or undefined when all is well. */
export function stackProblems(rows: readonly ServiceStatus[], connector: string): string | undefined {
  const bad = rows.filter((r) => r.state !== 'healthy');
  const connectorOk = connector.startsWith('RUNNING') && !connector.includes('FAILED');
  if (bad.length === 0 && connectorOk) return undefined;
  const lines = [
    ...bad.map((r) => `  ${r.service.padEnd(9)} port ${r.port}: ${r.state} (${r.detail})`),
    ...(connectorOk ? [] : [`  connector ferry-supply-chain: ${connector}`]),
  ];
  return (
    `The local stack is not up, so integration tests cannot run:\n${lines.join('\n')}\n\n` +
    'Start it with:  bin/ferry stack up   (then `bin/ferry stack status` should show every service healthy)'
  );
}

export default async function stackSetup(): Promise<void> {
  const problems = stackProblems(await stackStatus(), await connectorState());
  if (problems) throw new Error(problems);
}
