// A free TCP port for a child process that must be told its port up front (no port 0 option).
import { createServer } from 'node:net';

/** A port on 127.0.0.1 that nothing listens on right now, picked by the OS from its ephemeral range. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
