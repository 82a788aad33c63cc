// clean.loads: the contract of public.loads, built from the transform's one rules declaration
// (transforms/loads/rules.json: columns in the order the transform checks them, the status life
// cycle the generator walks in deploy/local/generator/statuses.ts). The Wasm transform's table
// (transforms/loads/rules.ts) is generated from the same file.
import rules from '../../transforms/loads/rules.json' with { type: 'json' };
import { changeEnvelopeSchema, cleanEventSchema, type EntityContract } from './entity.ts';
import { entityFromRules } from './rules.ts';

export const loads: EntityContract = entityFromRules(rules, 'transforms/loads/rules.json');

export const LOAD_STATUSES: readonly string[] =
  loads.fields.find((f) => f.name === loads.statusField)?.values ?? [];

export const cleanLoadSchema = cleanEventSchema(loads);
export const loadChangeSchema = changeEnvelopeSchema(loads);
