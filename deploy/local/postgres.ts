// PostgreSQL 15 from Debian's packages, on its own port and data dir, wal_level=logical so Debezium
// can stream it. The server refuses to run as root, so it runs as the Debian `postgres` user
// (setpriv execs, so the recorded pid is the postmaster itself). Settings are passed as -c flags:
// no config file to drift. `provision` creates role ferry/ferry, the supply_chain database and the
// schema (deploy/local/sql/schema.sql, idempotent).
import { spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PATHS, PG, PG_BIN, PORTS } from './config.ts';
import type { Health } from './health.ts';
import { startDetached } from './process.ts';
import type { Service } from './service.ts';

const dataDir = join(PATHS.data, 'postgres');
const socketDir = join(PATHS.data, 'postgres-run');

function osUser(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no OS user "${name}" (is the postgresql package installed?)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const asPostgres = (command: string, args: string[]): [string, string[]] => [
  'setpriv',
  ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args],
];

/** The postgres user must be able to walk down to .ferry: add o+x to any ancestor that lacks it. */
function ensureTraversable(dir: string): void {
  const chain: string[] = [];
  for (let d = dir; d !== dirname(d); d = dirname(d)) chain.push(d);
  for (const d of chain.reverse()) {
    if (!existsSync(d)) continue;
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) {
      spawnSync('chmod', ['o+x', d]);
    }
  }
}

function ownedByPostgres(dir: string): void {
  const { uid, gid } = osUser('postgres');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, uid, gid);
}

export function adminClient(): pg.Client {
  // Local socket, trust auth, as the bootstrap superuser: only used to create role and database.
  return new pg.Client({ host: socketDir, port: PORTS.postgres, user: 'postgres', database: 'postgres' });
}

function pgIsReady(): Health {
  const res = spawnSync(
    join(PG_BIN, 'pg_isready'),
    ['-h', socketDir, '-p', String(PORTS.postgres), '-t', '2'],
    {
      encoding: 'utf8',
    },
  );
  return { ok: res.status === 0, detail: (res.stdout || res.stderr || '').trim() };
}

export function postgresService(): Service {
  return {
    name: 'postgres',
    port: PORTS.postgres,
    startTimeoutMs: 60_000,
    stopSignal: 'SIGINT', // "fast" shutdown: SIGTERM would wait for every client to leave
    async prepare(say) {
      ensureTraversable(PATHS.state);
      mkdirSync(PATHS.data, { recursive: true });
      ownedByPostgres(socketDir);
      if (existsSync(join(dataDir, 'PG_VERSION'))) return;
      say('postgres: initdb (first run)');
      ownedByPostgres(dataDir);
      const [cmd, args] = asPostgres(join(PG_BIN, 'initdb'), [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
      ]);
      const res = spawnSync(cmd, args, { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`initdb failed: ${res.stderr || res.stdout}`);
      accessSync(join(dataDir, 'PG_VERSION'), constants.R_OK);
    },
    start() {
      const [cmd, args] = asPostgres(join(PG_BIN, 'postgres'), [
        '-D',
        dataDir,
        '-c',
        `port=${PORTS.postgres}`,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${socketDir}`,
        '-c',
        'wal_level=logical',
        '-c',
        'max_wal_senders=10',
        '-c',
        'max_replication_slots=10',
        '-c',
        'shared_buffers=128MB',
        '-c',
        'max_connections=200',
        '-c',
        'logging_collector=off',
        '-c',
        'log_min_messages=warning',
      ]);
      return startDetached({ name: 'postgres', command: cmd, args });
    },
    async ready() {
      return pgIsReady();
    },
    async provision(say) {
      const admin = adminClient();
      await admin.connect();
      try {
        const role = await admin.query('select 1 from pg_roles where rolname = $1', [PG.user]);
        if (role.rowCount === 0) {
          say(`postgres: creating role ${PG.user}`);
          // Superuser on a local, loopback-only dev database: Debezium needs REPLICATION, tests
          // need to inspect slots and terminate backends.
          await admin.query(`create role ${PG.user} login superuser replication password '${PG.password}'`);
        }
        const db = await admin.query('select 1 from pg_database where datname = $1', [PG.database]);
        if (db.rowCount === 0) {
          say(`postgres: creating database ${PG.database}`);
          await admin.query(`create database ${PG.database} owner ${PG.user}`);
        }
      } finally {
        await admin.end();
      }
      const client = new pg.Client({ ...PG });
      await client.connect();
      try {
        // The file is guarded to take no table locks when already applied; should a first run still
        // meet busy writers, a deadlock (40P01) or lock timeout (55P03) is retried.
        await client.query("set lock_timeout = '15s'");
        for (let attempt = 1; ; attempt++) {
          try {
            await client.query(readFileSync(PATHS.schemaSql, 'utf8'));
            break;
          } catch (error) {
            const code = (error as { code?: string }).code;
            if (attempt >= 5 || (code !== '40P01' && code !== '55P03')) throw error;
            say(`postgres: schema attempt ${attempt} hit ${code}, retrying`);
            await sleep(500 * attempt);
          }
        }
      } finally {
        await client.end();
      }
    },
  };
}
