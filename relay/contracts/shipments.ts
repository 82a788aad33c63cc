// clean.shipments: the contract of public.shipments, built from the transform's one rules declaration
// (transforms/shipments/rules.json: columns in the order the transform checks them, the status life
// cycle the generator walks in deploy/local/generator/statuses.ts). The Wasm transform's table
// (transforms/shipments/rules.ts) is generated from the same file.
import rules from '../../transforms/shipments/rules.json' with { type: 'json' };
import { changeEnvelopeSchema, cleanEventSchema, type EntityContract } from './entity.ts';
import { entityFromRules } from './rules.ts';

export const shipments: EntityContract = entityFromRules(rules, 'transforms/shipments/rules.json');

export const SHIPMENT_STATUSES: readonly string[] =
  shipments.fields.find((f) => f.name === shipments.statusField)?.values ?? [];

export const cleanShipmentSchema = cleanEventSchema(shipments);
export const shipmentChangeSchema = changeEnvelopeSchema(shipments);
