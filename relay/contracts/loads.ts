// clean.loads: columns of public.loads (deploy/local/sql/schema.sql) in the order the transform
// checks them (transforms/loads/index.ts); life cycle in `transitions` below
// (the generator walks it: deploy/local/generator/statuses.ts).
import { MAX_SAFE } from './codes.ts';
import { changeEnvelopeSchema, cleanEventSchema, type EntityContract } from './entity.ts';

export const LOAD_STATUSES = [
  'planned',
  'tendered',
  'assigned',
  'picked_up',
  'in_transit',
  'delivered',
  'cancelled',
] as const;

export const loads: EntityContract = {
  table: 'loads',
  entity: 'load',
  schema: 'ferry.loads.v1',
  statusField: 'status',
  fields: [
    { name: 'id', out: 'id', kind: 'id', required: true },
    { name: 'load_number', out: 'loadNumber', kind: 'string', required: true, maxLength: 64 },
    { name: 'trailer_id', out: 'trailerId', kind: 'int', required: false, min: 1, max: MAX_SAFE },
    { name: 'origin_facility', out: 'origin', kind: 'facility', required: true },
    { name: 'destination_facility', out: 'destination', kind: 'facility', required: true },
    { name: 'status', out: 'status', kind: 'enum', required: true, values: LOAD_STATUSES },
    { name: 'gross_weight', out: 'grossWeightKg', kind: 'weight', required: true, unit: 'weight_unit' },
    { name: 'weight_unit', out: '', kind: 'enum', required: true, values: ['kg', 'lb'] },
    { name: 'planned_departure', out: 'plannedDeparture', kind: 'timestamp', required: false },
    { name: 'departed_at', out: 'departedAt', kind: 'timestamp', required: false },
    { name: 'arrived_at', out: 'arrivedAt', kind: 'timestamp', required: false },
    { name: 'created_at', out: 'createdAt', kind: 'timestamp', required: true },
    { name: 'updated_at', out: 'updatedAt', kind: 'timestamp', required: true },
  ],
  transitions: {
    planned: ['tendered', 'cancelled'],
    tendered: ['assigned', 'cancelled'],
    assigned: ['picked_up', 'cancelled'],
    picked_up: ['in_transit'],
    in_transit: ['delivered'],
    delivered: [],
    cancelled: [],
  },
};

export const cleanLoadSchema = cleanEventSchema(loads);
export const loadChangeSchema = changeEnvelopeSchema(loads);
