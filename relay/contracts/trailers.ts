// clean.trailers: the contract of public.trailers, built from the transform's one rules declaration
// (transforms/trailers/rules.json: columns in the order the transform checks them, the status life
// cycle the generator walks in deploy/local/generator/statuses.ts). The Wasm transform's table
// (transforms/trailers/rules.ts) is generated from the same file.
import rules from '../../transforms/trailers/rules.json' with { type: 'json' };
import { changeEnvelopeSchema, cleanEventSchema, type EntityContract } from './entity.ts';
import { entityFromRules } from './rules.ts';

export const trailers: EntityContract = entityFromRules(rules, 'transforms/trailers/rules.json');

export const TRAILER_STATUSES: readonly string[] =
  trailers.fields.find((f) => f.name === trailers.statusField)?.values ?? [];

export const cleanTrailerSchema = cleanEventSchema(trailers);
export const trailerChangeSchema = changeEnvelopeSchema(trailers);
