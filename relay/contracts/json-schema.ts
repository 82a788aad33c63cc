// JSON Schema documents of the contracts, for teams that subscribe to the clean topics (and for
// producers of the CDC topics). Rules JSON Schema cannot state (facility codes, timestamp calendar
// checks, status transitions) stay in the valibot schemas and are noted in each description.
import { toJsonSchema } from '@valibot/to-json-schema';
import type { EntityContract } from './entity.ts';
import { changeEnvelopeSchema, cleanEventSchema } from './entity.ts';
import { loads } from './loads.ts';
import { shipments } from './shipments.ts';
import { trailers } from './trailers.ts';

const CONTRACTS: readonly EntityContract[] = [shipments, trailers, loads];

/** File name -> JSON text (stable formatting, newline at the end). */
export function jsonSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const c of CONTRACTS) {
    const clean = toJsonSchema(cleanEventSchema(c), { errorMode: 'ignore' });
    files[`clean.${c.table}.json`] =
      `${JSON.stringify({ $id: `clean.${c.table}.json`, ...clean }, null, 2)}\n`;
    const cdc = toJsonSchema(changeEnvelopeSchema(c), { errorMode: 'ignore' });
    const note =
      'Also checked by the transform but not expressible here: facility codes must be known, timestamps must be real ' +
      'calendar instants in 1900..9999, update status changes must follow the life cycle, nesting <= 32 levels.';
    files[`cdc.public.${c.table}.json`] = `${JSON.stringify(
      { $id: `cdc.public.${c.table}.json`, ...cdc, $comment: note },
      null,
      2,
    )}\n`;
  }
  return files;
}
