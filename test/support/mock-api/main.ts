// The mock API as a standalone process on any runtime (node, bun, deno): what `ferry mock-api` does,
// without the CLI, so benchmarks can serve it from Bun. Prints one JSON line with the URL, stops on SIGTERM.
//   node|bun test/support/mock-api/main.ts [--port 0] [--host 127.0.0.1] [--endpoints a,b] [--no-record-bodies]
import { parseArgs } from 'node:util';
import { startMockApi } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    endpoints: { type: 'string', default: '' },
    'no-record-bodies': { type: 'boolean', default: false },
  },
});
const api = await startMockApi({
  port: Number(values.port),
  host: values.host,
  endpoints: values.endpoints.split(',').filter(Boolean),
  recordBodies: !values['no-record-bodies'],
});
process.stdout.write(`${JSON.stringify({ event: 'listening', url: api.url, port: api.port })}\n`);
const stop = async () => {
  await api.stop();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
