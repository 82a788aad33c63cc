// `ferry mock-api`: the mock external API as a process, for the demo and for tests that kill things.
import type { Command } from 'commander';
import { startMockApi } from '../../test/support/mock-api/server.ts';
import { portFlag } from '../flags.ts';

export function register(cmd: Command): void {
  cmd
    .option('--port <port>', 'port to listen on (0 = any free port)', portFlag, 18080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--endpoints <names>', 'comma-separated endpoint names to create up front', '')
    .option('--no-record-bodies', 'keep request bodies out of the log (benchmarks)')
    .option(
      '--key-field <path>',
      'JSON body field with the ordering key, for the order and duplicate checks (clean events: id)',
      'key',
    )
    .option('--seq-field <path>', 'JSON body field with the sequence within a key (clean events: lsn)', 'seq')
    .action(
      async (opts: {
        port: number;
        host: string;
        endpoints: string;
        recordBodies: boolean;
        keyField: string;
        seqField: string;
      }) => {
        const order = { keyField: opts.keyField, seqField: opts.seqField };
        const api = await startMockApi({
          port: opts.port,
          host: opts.host,
          endpoints: opts.endpoints
            .split(',')
            .filter(Boolean)
            .map((name) => ({ name, order })),
          recordBodies: opts.recordBodies,
        });
        // One machine-readable line first, so a parent process can read the port.
        process.stdout.write(JSON.stringify({ event: 'listening', url: api.url, port: api.port }) + '\n');
        const stop = async () => {
          await api.stop();
          process.exit(0);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      },
    );
}
