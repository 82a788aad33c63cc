import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemaFiles } from './json-schema.ts';

const dir = join(import.meta.dirname, 'json-schema');

describe('committed JSON Schema exports', () => {
  const files = jsonSchemaFiles();

  it('are up to date with the valibot contracts (run npm run contracts:export)', () => {
    expect(readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
    for (const [file, text] of Object.entries(files))
      expect(readFileSync(join(dir, file), 'utf8'), file).toBe(text);
  });

  it('describe the clean shipment event subscribers receive', () => {
    const schema = JSON.parse(files['clean.shipments.json']!);
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(
      expect.arrayContaining([
        'eventId',
        'schema',
        'entity',
        'op',
        'id',
        'lsn',
        'occurredAt',
        'data',
        'previousStatus',
      ]),
    );
    expect(schema.properties.op.enum).toEqual(['created', 'updated', 'deleted', 'snapshot']);
  });
});
