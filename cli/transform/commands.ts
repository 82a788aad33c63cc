// `ferry transform init | test | deploy`: a team's own transform from an empty folder to a deployed
// module, the rpk way (rpk's transform.yaml, rpk's flag names, the rpk command printed as it runs).
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { PG_URL } from '../../deploy/local/config.ts';
import type { EntityContract } from '../../relay/contracts/entity.ts';
import { rulesProblems } from '../../relay/contracts/rules.ts';
import { CliError } from '../errors.ts';
import { FIXTURES_DIR } from './fixtures.ts';
import { fieldsFromTable, parseTableName, readTable } from './pg-columns.ts';
import {
  buildTransform,
  locateTransform,
  REPO_ROOT,
  readProject,
  TRANSFORMS_DIR,
  type TransformFolder,
} from './project.ts';
import { rulesDocument, scaffoldFiles, singular, starterRules } from './scaffold.ts';
import { testTransform } from './test-run.ts';

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

function envPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError('K=V');
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A word as a POSIX shell reads it back. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const show = (path: string) => {
  const r = relative(process.cwd(), path);
  return r.startsWith('..') ? path : r || '.';
};

async function initAction(
  name: string,
  opts: { table?: string; dir?: string; inputTopic?: string },
): Promise<void> {
  if (!NAME.test(name))
    throw new CliError(`"${name}": a transform name is lower case letters, digits, - and _ (at most 63)`, 2);
  const dir = resolve(opts.dir ?? TRANSFORMS_DIR, name);
  if (await exists(dir)) {
    const entries = await readdir(dir).catch(() => ['(not a folder)']);
    if (entries.length > 0) throw new CliError(`${show(dir)} already exists; init never overwrites it`, 2);
  }
  let contract: EntityContract;
  let skipped: Array<{ column: string; type: string }> = [];
  let source: string;
  if (opts.table !== undefined) {
    const { schema, table } = parseTableName(opts.table);
    const shape = await readTable(process.env.FERRY_PG_URL ?? PG_URL, schema, table);
    const fromTable = fieldsFromTable(shape);
    skipped = fromTable.skipped;
    contract = {
      table,
      entity: singular(table),
      schema: `ferry.${table}.v1`,
      fields: fromTable.fields,
      statusField: '',
      transitions: {},
    };
    source = `${schema}.${table}`;
  } else {
    contract = starterRules(name.replace(/-/g, '_'));
    source = 'a starter field list (no --table)';
  }
  const problems = rulesProblems(rulesDocument(contract));
  if (problems.length > 0)
    throw new CliError(`the rules for ${source} are invalid: ${problems.join('; ')}`, 2);
  const inputTopic = opts.inputTopic ?? `cdc.${source.includes('.') ? source : `public.${contract.table}`}`;
  const files = scaffoldFiles(contract, { dir, name, inputTopic });
  for (const [path, text] of files) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text, { flag: 'wx' });
  }
  const target = show(dir);
  const ref = dirname(dir) === resolve(TRANSFORMS_DIR) ? name : target;
  console.log(`created ${target}/ from ${source}:`);
  for (const path of files.keys()) console.log(`  ${path}`);
  console.log(
    `fields: ${contract.fields.map((f) => `${f.name} (${f.kind}${f.required ? ', required' : ''})`).join(', ')}`,
  );
  for (const s of skipped)
    console.log(`left out: ${s.column} (${s.type}): no rule kind checks this type yet; add it by hand`);
  console.log(`
next:
  edit ${target}/rules.json (bounds, enums, a status life cycle: statusField + transitions)
  ferry transform build ${ref}
  ferry transform test ${ref}
  ferry transform deploy ${ref} --dry-run`);
}

async function fixtureFolders(): Promise<TransformFolder[]> {
  const out: TransformFolder[] = [];
  for (const e of await readdir(TRANSFORMS_DIR, { withFileTypes: true })) {
    if (e.isDirectory() && (await exists(join(TRANSFORMS_DIR, e.name, FIXTURES_DIR))))
      out.push({ name: e.name, dir: join(TRANSFORMS_DIR, e.name), inRepo: true });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function testAction(targets: string[]): Promise<void> {
  const folders =
    targets.length > 0 ? await Promise.all(targets.map((t) => locateTransform(t))) : await fixtureFolders();
  if (folders.length === 0) throw new CliError('no transform with a fixtures/ folder under transforms/', 2);
  let failed = 0;
  let total = 0;
  for (const f of folders) {
    console.error(`${f.name}: building and running the fixtures...`);
    const report = await testTransform(f, {
      onLog: (level, line) => console.error(`${f.name} [${level}] ${line}`),
    });
    console.log(report.text);
    failed += report.failures.length;
    total += report.total;
  }
  if (failed > 0) throw new CliError(`${failed} of ${total} fixture record(s) differ from what they state`);
}

interface DeployOptions {
  dryRun?: boolean;
  portable?: boolean;
  inputTopic?: string;
  outputTopic?: string[];
  var: Record<string, string>;
  bootstrapServer?: string;
  group?: string;
  fromLatest?: boolean;
}

/** The words of the deploy command: rpk's, or the portable runner's. */
export function deployCommand(
  rpk: string,
  wasmPath: string,
  project: { name: string; inputTopic: string; outputTopics: readonly string[]; env: Record<string, string> },
  opts: DeployOptions,
): string[] {
  const topics = [
    '--input-topic',
    project.inputTopic,
    ...project.outputTopics.flatMap((t) => ['--output-topic', t]),
    ...Object.entries(project.env).flatMap(([k, v]) => ['--var', `${k}=${v}`]),
  ];
  if (!opts.portable)
    return [rpk, 'transform', 'deploy', '--file', wasmPath, '--name', project.name, ...topics];
  return [
    'ferry',
    'transform',
    'run',
    '--module',
    wasmPath,
    '--name',
    project.name,
    ...topics,
    ...(opts.bootstrapServer ? ['--bootstrap-server', opts.bootstrapServer] : []),
    ...(opts.group ? ['--group', opts.group] : []),
    ...(opts.fromLatest ? ['--from-latest'] : []),
  ];
}

/** Whether `rpk` (a path, or a name looked up on PATH) is an executable file; nothing is run. */
async function hasRpk(rpk: string): Promise<boolean> {
  const candidates = rpk.includes('/')
    ? [rpk]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter((d) => d !== '')
        .map((d) => join(d, rpk));
  for (const c of candidates) {
    if (
      await access(c, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

async function deployAction(target: string, opts: DeployOptions): Promise<void> {
  const t = await locateTransform(target);
  const base = await readProject(t);
  const project = {
    name: base.name,
    inputTopic: opts.inputTopic ?? base.inputTopic,
    outputTopics: opts.outputTopic && opts.outputTopic.length > 0 ? opts.outputTopic : base.outputTopics,
    env: { ...base.env, ...opts.var },
  };
  const rpk = process.env.RPK ?? 'rpk';
  if (!opts.portable && !opts.dryRun && !(await hasRpk(rpk))) {
    throw new CliError(
      `${rpk} not found (install rpk and point it at the cluster, or set RPK=/path/to/rpk); to run the transform beside Kafka instead: ferry transform deploy ${target} --portable`,
    );
  }
  const wasmPath = opts.dryRun
    ? t.inRepo
      ? join(REPO_ROOT, 'build', 'wasm', `${t.name}.wasm`)
      : join(t.dir, `${t.name}.wasm`)
    : (await buildTransform(t)).wasmPath;
  const words = deployCommand(rpk, show(wasmPath), project, opts);
  console.log(words.map(shellQuote).join(' '));
  if (opts.dryRun) return;
  const [command, ...args] = opts.portable
    ? [process.execPath, join(REPO_ROOT, 'cli', 'main.ts'), ...words.slice(1)]
    : words;
  const child = spawn(command!, args, { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (c, signal) => done(c ?? (signal ? 1 : 0)));
  }).finally(() => {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  });
  if (code !== 0) throw new CliError(`${words[0]} ${words[1]} ${words[2]} exited with code ${code}`);
}

export function registerTeamCommands(cmd: Command): void {
  cmd
    .command('init')
    .description('scaffold a new entity transform (rpk transform.yaml, rules, fixtures, a test)')
    .argument('<name>', 'the transform name (lower case, digits, - and _)')
    .option('--table <schema.table>', "read the field list from this PostgreSQL table's columns")
    .option('--dir <folder>', 'create <folder>/<name>/ instead of transforms/<name>/')
    .option('--input-topic <topic>', 'the input topic (default cdc.<schema>.<table>, as Debezium names it)')
    .addHelpText(
      'after',
      `
Creates <name>/ with transform.yaml (rpk's project file), rules.json (the one declaration of the
entity's rules: fields in check order, kinds, required, enums, bounds, an optional status life cycle),
rules.ts (the Wasm table, generated from rules.json), index.ts (the AssemblyScript entry),
fixtures/valid.json and fixtures/invalid.json (records with what each must give) and <name>.test.ts.
Never overwrites: a folder that exists and is not empty is refused.

With --table, the columns come from PostgreSQL (FERRY_PG_URL, default the local stack's
supply_chain database): the integer primary key becomes the event key, NOT NULL makes a field
required, enum types and CHECK (col IN (...)) become enums, integer types and CHECK bounds become
ranges, varchar(n) a length limit, timestamptz a timestamp. Columns of other types are listed and left
out (add them by hand).

Examples:
  ferry transform init orders --table public.orders
  ferry transform init returns --dir ../team-returns
  ferry transform init audit`,
    )
    .action(initAction);

  cmd
    .command('test')
    .description("run a transform's fixture records through its built module and compare")
    .argument('[transforms...]', 'names under transforms/ or folders (default: every one with fixtures/)')
    .addHelpText(
      'after',
      `
Builds each transform (rules.ts regenerated from rules.json, the broker's deploy-time checks), then
sends every record of fixtures/*.json through the module in Ferry's host, which enforces what the
broker does (ABI, memory limit, CPU budget per record), one record per batch, with the topics and
variables of transform.yaml. A fixture file holds one case or an array of them:

  { "name": "an insert is cleaned",
    "input":  { "key": "{\\"id\\":1}", "value": { ...Debezium envelope... }, "headers": { "h": "v" } },
    "expect": { "outputs": [ { "topic": "clean.orders", "key": "1", "value": { ... },
                               "headers": { "ferry-event-id": "pg:orders:1000:1" } } ] } }
  { "name": "...", "input": { ... }, "expect": { "dlq": { "code": "invalid_enum", "field": "after.status" } } }

An input value that is a string is sent as is, null is a tombstone; "valueBase64" sends raw bytes.
"outputs": [] means the record is dropped. Expected values that are objects are compared as JSON;
only the headers named are compared. Each differing record prints - expected / + actual lines.
Exit code 1 when any record differs, 2 when a fixture file is invalid: usable as is in CI.

Examples:
  ferry transform test
  ferry transform test shipments
  ferry transform test ../team-returns/returns`,
    )
    .action(testAction);

  const deploy = cmd
    .command('deploy')
    .description('build a transform and deploy it with rpk, or run it beside Kafka (--portable)')
    .argument('<transform>', 'a name under transforms/ or a folder with transform.yaml')
    .option('--dry-run', 'print the command, build and run nothing')
    .option('--portable', 'run it with the portable runner (ferry transform run) instead of rpk')
    .option('--input-topic <topic>', "instead of transform.yaml's input-topic")
    .option('--output-topic <topic>', "instead of transform.yaml's output-topics (repeatable)", collect)
    .option('--var <K=V>', 'an environment variable added to transform.yaml env (repeatable)', envPair, {})
    .option('--bootstrap-server <host:port>', 'with --portable: the Kafka brokers')
    .option('--group <id>', 'with --portable: the consumer group')
    .option('--from-latest', 'with --portable: a new group starts at the end of the input');
  deploy.addHelpText(
    'after',
    `
Builds and checks the module (as the broker checks a deploy), prints the command, then runs it:
  rpk transform deploy --file <module> --name <name> --input-topic <in> --output-topic <out>... --var K=V...
with the values of transform.yaml (rpk's own project file keys). rpk must be on PATH (or RPK=...)
and point at the cluster (an rpk profile, or RPK_BROKERS and RPK_ADMIN_HOSTS); the cluster needs
data_transforms_enabled=true, and the topics must exist (deploy/redpanda/deploy-transforms.sh creates
them). rpk refuses what the deploy-time checks refuse; redeploying a name replaces it.
--portable runs the same module with \`ferry transform run\` beside Apache Kafka instead (TLS and SASL
from the FERRY_KAFKA_* environment); it runs until SIGINT/SIGTERM.

Examples:
  ferry transform deploy orders --dry-run
  ferry transform deploy orders
  ferry transform deploy orders --portable --bootstrap-server 127.0.0.1:19092`,
  );
  deploy.action(deployAction);
}
