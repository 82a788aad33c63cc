// npm run contracts:export — writes relay/contracts/json-schema/*.json and relay/contracts/asyncapi.yaml
// from the valibot contracts. Unit tests fail when the committed files are out of date.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncApiYaml } from './asyncapi.ts';
import { jsonSchemaFiles } from './json-schema.ts';

const dir = join(import.meta.dirname, 'json-schema');
mkdirSync(dir, { recursive: true });
for (const [file, text] of Object.entries(jsonSchemaFiles())) {
  writeFileSync(join(dir, file), text);
  console.log(`wrote ${join('relay/contracts/json-schema', file)}`);
}
writeFileSync(join(import.meta.dirname, 'asyncapi.yaml'), asyncApiYaml());
console.log('wrote relay/contracts/asyncapi.yaml');
