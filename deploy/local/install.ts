// What a cold machine is missing: Debian packages (postgresql 15, redis-server) and the Maven jars
// for Kafka, Connect and Debezium. Each step says what it does and streams the tool's progress.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PATHS, PG_BIN } from './config.ts';

export type Say = (line: string) => void;

function run(command: string, args: string[], say: Say, env: Record<string, string> = {}): void {
  say(`$ ${command} ${args.join(' ')}`);
  const res = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
  });
  if (res.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${res.status ?? res.signal})`);
  }
}

const has = (path: string): boolean => existsSync(path);

/** Debian packages the stack needs, keyed by a file that proves they are installed. */
export function missingAptPackages(): string[] {
  const missing: string[] = [];
  if (!has(join(PG_BIN, 'postgres'))) missing.push('postgresql');
  if (!has('/usr/bin/redis-server')) missing.push('redis-server');
  if (!has('/usr/bin/java')) missing.push('openjdk-17-jre-headless');
  if (!has('/usr/bin/mvn')) missing.push('maven');
  return missing;
}

export function installAptPackages(say: Say): void {
  const missing = missingAptPackages();
  if (missing.length === 0) return;
  say(`installing Debian packages: ${missing.join(', ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], say, env);
  run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], say, env);
  // Debian's packages start their own default instances; ours run on their own ports and data dirs.
  // The default clusters are left as they are: they do not touch our ports.
}

const jarCount = (dir: string): number =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jar')).length : 0;

/** The versions pinned in deploy/local/pom.xml. */
export function pinnedVersions(): { kafka: string; debezium: string } {
  const pom = readFileSync(PATHS.pom, 'utf8');
  const prop = (name: string) => pom.match(new RegExp(`<${name}>([^<]+)</${name}>`))?.[1] ?? '?';
  return { kafka: prop('kafka.version'), debezium: prop('debezium.version') };
}

export function jarsPresent(): boolean {
  const { kafka, debezium } = pinnedVersions();
  return (
    existsSync(join(PATHS.kafkaJars, `kafka_2.13-${kafka}.jar`)) &&
    existsSync(join(PATHS.kafkaJars, `connect-runtime-${kafka}.jar`)) &&
    existsSync(join(PATHS.debeziumJars, `debezium-connector-postgres-${debezium}.jar`))
  );
}

/** Runs Maven, printing a progress line every 25 downloads instead of Maven's own flood. */
function runMaven(args: string[], say: Say): Promise<void> {
  say(`$ mvn ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let downloads = 0;
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (line.includes('Downloaded from')) {
        downloads++;
        if (downloads % 25 === 0)
          say(`maven: ${downloads} files downloaded (${line.split('/').pop()?.split(' ')[0]})`);
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', onLine);
    }
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        if (downloads > 0) say(`maven: ${downloads} files downloaded`);
        resolve();
      } else {
        reject(new Error(`mvn failed (exit ${code}):\n${tail.join('\n')}`));
      }
    });
  });
}

export async function installJars(say: Say): Promise<void> {
  if (jarsPresent()) return;
  say('fetching Kafka, Kafka Connect and Debezium jars from Maven Central (deploy/local/pom.xml, ~75 MB)');
  await runMaven(['-B', '-f', PATHS.pom, `-Dferry.jars=${PATHS.jars}`, 'dependency:copy-dependencies'], say);
  if (!jarsPresent()) throw new Error(`Maven finished but the jars are not in ${PATHS.jars}`);
  say(`jars: ${jarCount(PATHS.kafkaJars)} for Kafka/Connect, ${jarCount(PATHS.debeziumJars)} for Debezium`);
}
