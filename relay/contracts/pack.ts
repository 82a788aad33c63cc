// npm run contracts:pack — builds the @ferry/contracts package (JavaScript + type declarations from the
// TypeScript sources, the JSON Schema files, the AsyncAPI document) and packs it into a tarball a
// consuming team installs (`npm install ./ferry-contracts-<version>.tgz`) or publishes to its registry.
// Prints the tarball's path on the last line.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTRACTS_VERSION } from './asyncapi.ts';

const { values } = parseArgs({
  options: { out: { type: 'string', default: '.ferry/packages' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('usage: npm run contracts:pack [-- --out <dir>]   (default .ferry/packages)');
  process.exit(0);
}

const here = import.meta.dirname;
const root = resolve(here, '../..');
const out = resolve(root, values.out);
const stage = join(root, '.ferry', 'contracts-package');

const manifest = JSON.parse(readFileSync(join(here, 'package.publish.json'), 'utf8')) as { version: string };
if (manifest.version !== CONTRACTS_VERSION) {
  console.error(
    `package.publish.json says ${manifest.version} but CONTRACTS_VERSION (asyncapi.ts) says ${CONTRACTS_VERSION}: bump both`,
  );
  process.exit(2);
}

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(
  process.execPath,
  [tsc, '-p', join(here, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')],
  {
    stdio: 'inherit',
  },
);
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
cpSync(join(here, 'json-schema'), join(stage, 'json-schema'), { recursive: true });
cpSync(join(here, 'asyncapi.yaml'), join(stage, 'asyncapi.yaml'));
cpSync(join(here, 'README.md'), join(stage, 'README.md'));
mkdirSync(out, { recursive: true });
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8' }),
) as Array<{ filename: string; files: unknown[] }>;
const tarball = join(out, packed[0]!.filename);
console.log(`packed ${packed[0]!.files.length} files`);
console.log(tarball);
