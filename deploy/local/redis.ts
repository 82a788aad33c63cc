// Redis from Debian's redis-server, on its own port and data dir. The process title includes the
// config file path, which lives under .ferry, so the pid check recognises it as ours.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST, PATHS, PORTS } from './config.ts';
import { redisHealth } from './health.ts';
import { startDetached } from './process.ts';
import type { Service } from './service.ts';

const dataDir = join(PATHS.data, 'redis');
const confFile = join(PATHS.conf, 'redis.conf');

export function redisService(): Service {
  return {
    name: 'redis',
    port: PORTS.redis,
    startTimeoutMs: 20_000,
    stopSignal: 'SIGTERM',
    async prepare() {
      mkdirSync(dataDir, { recursive: true });
      mkdirSync(PATHS.conf, { recursive: true });
      writeFileSync(
        confFile,
        [
          `bind ${HOST}`,
          `port ${PORTS.redis}`,
          'protected-mode yes',
          'daemonize no',
          `dir ${dataDir}`,
          'dbfilename dump.rdb',
          'save ""',
          // AOF, fsynced every second: a Redis restart keeps the dedupe marks (`done` and leases)
          // of all but the last second, so a restart costs at most a second of wire replays.
          'appendonly yes',
          'appendfsync everysec',
          'appenddirname appendonly',
          'logfile ""',
          'proc-title-template "{title} {listen-addr} {config-file}"',
          '',
        ].join('\n'),
      );
    },
    start() {
      return startDetached({ name: 'redis', command: '/usr/bin/redis-server', args: [confFile] });
    },
    ready: () => redisHealth(),
  };
}
