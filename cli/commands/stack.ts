// `ferry stack up|down|status|logs`: the local stack (Kafka, Kafka Connect + Debezium, PostgreSQL,
// Redis) on 127.0.0.1. The logic lives in deploy/local/stack.ts; this file only parses and prints.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  CONNECT_URL,
  KAFKA_BOOTSTRAP,
  KAFKA_MTLS_BOOTSTRAP,
  KAFKA_SASL_BOOTSTRAP,
  KAFKA_TLS,
  PATHS,
  PG_URL,
  REDIS_URL,
  SERVICE_NAMES,
  type ServiceName,
} from '../../deploy/local/config.ts';
import { logFile } from '../../deploy/local/process.ts';
import {
  connectorState,
  isStackError,
  servicesUp,
  stackDown,
  stackStatus,
  stackUp,
} from '../../deploy/local/stack.ts';

const ports = `Ports (all 127.0.0.1): Kafka 19092 (controller 19093, SASL_SSL 19094, mTLS 19095), Kafka
Connect REST 18083, PostgreSQL 15432 (db supply_chain, user ferry/ferry), Redis 16379. State: .ferry/
(git-ignored); the secured listeners' CA, certificates and SCRAM user in .ferry/kafka-tls/.`;

function fail(error: unknown): never {
  if (isStackError(error)) {
    console.error(`\nferry stack: ${error.message}`);
    if (error.logTail) {
      console.error(`--- last lines of ${logFile(error.service)} ---\n${error.logTail}\n---`);
    }
  } else {
    console.error(`\nferry stack: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
}

const stamp = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

export function register(cmd: Command): void {
  cmd.addHelpText('after', `\n${ports}`);

  cmd
    .command('up')
    .description(
      'install what is missing, start every service, create the schema, register the Debezium connector',
    )
    .addHelpText(
      'after',
      `
Idempotent: running services are left alone; a second run only checks health and re-registers the
connector (a no-op). On a cold machine it installs Debian packages (postgresql, redis-server) and
fetches the Kafka/Connect/Debezium jars with Maven first. When a service fails it names it, prints
the tail of its log and exits 1.

${ports}`,
    )
    .option(
      '--only <services>',
      `start only these (comma-separated: ${SERVICE_NAMES.join(', ')}); no install step, jars must be there`,
    )
    .action(async (opts: { only?: string }) => {
      try {
        if (opts.only !== undefined) {
          const names = opts.only.split(',').map((n) => n.trim());
          const unknown = names.filter((n) => !(SERVICE_NAMES as readonly string[]).includes(n));
          if (unknown.length > 0) {
            console.error(`unknown service "${unknown.join(', ')}": one of ${SERVICE_NAMES.join(', ')}`);
            process.exit(2);
          }
          await servicesUp(names as ServiceName[], { say: stamp });
          return;
        }
        await stackUp({ say: stamp });
        console.log(`\nKafka      ${KAFKA_BOOTSTRAP}
  SASL_SSL ${KAFKA_SASL_BOOTSTRAP} (SCRAM-SHA-512/256, PLAIN; user in ${KAFKA_TLS.credentials})
  mTLS     ${KAFKA_MTLS_BOOTSTRAP} (CA and client certificate in ${KAFKA_TLS.dir})
Connect    ${CONNECT_URL}
PostgreSQL ${PG_URL}
Redis      ${REDIS_URL}`);
      } catch (error) {
        fail(error);
      }
    });

  cmd
    .command('down')
    .description('stop every service Ferry started (by pid: TERM, wait, then KILL)')
    .option('--wipe', 'also delete the data (Kafka logs, PostgreSQL, Redis); the jar cache is kept')
    .action(async (opts: { wipe?: boolean }) => {
      try {
        await stackDown({ say: stamp, wipe: opts.wipe === true });
      } catch (error) {
        fail(error);
      }
    });

  cmd
    .command('status')
    .description('print a table of services: port, pid, state; exits 1 unless all are healthy')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      const rows = await stackStatus();
      const connector = await connectorState();
      if (opts.json) {
        console.log(JSON.stringify({ services: rows, connector }, null, 2));
      } else {
        const table = [
          ['SERVICE', 'PORT', 'PID', 'STATE', 'DETAIL'],
          ...rows.map((r) => [r.service, String(r.port), r.pid ? String(r.pid) : '-', r.state, r.detail]),
        ];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
        for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
        console.log(`\nconnector ferry-supply-chain: ${connector}`);
      }
      process.exitCode = rows.every((r) => r.state === 'healthy') ? 0 : 1;
    });

  cmd
    .command('logs')
    .description("print a service's log (kafka, connect, postgres, redis)")
    .argument('<service>', `one of ${SERVICE_NAMES.join(', ')}`)
    .option('-n, --lines <n>', 'how many lines from the end', '100')
    .option('-f, --follow', 'keep printing new lines (Ctrl-C to stop)')
    .action((service: string, opts: { lines: string; follow?: boolean }) => {
      if (!(SERVICE_NAMES as readonly string[]).includes(service)) {
        console.error(`unknown service "${service}": one of ${SERVICE_NAMES.join(', ')}`);
        process.exit(2);
      }
      const file = logFile(service);
      if (!existsSync(file)) {
        console.error(`no log yet at ${file} (has the stack been started? logs live in ${PATHS.logs})`);
        process.exit(1);
      }
      const args = ['-n', opts.lines, ...(opts.follow ? ['-F'] : []), file];
      const child = spawn('tail', args, { stdio: 'inherit' });
      child.on('exit', (code) => process.exit(code ?? 0));
    });
}
