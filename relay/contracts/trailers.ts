// clean.trailers: columns of public.trailers (deploy/local/sql/schema.sql) in the order the
// transform checks them (transforms/trailers/index.ts); life cycle in `transitions` below
// (the generator walks it: deploy/local/generator/statuses.ts).
import { changeEnvelopeSchema, cleanEventSchema, type EntityContract } from './entity.ts';

export const TRAILER_STATUSES = [
  'available',
  'loading',
  'in_transit',
  'unloading',
  'maintenance',
  'retired',
] as const;

export const trailers: EntityContract = {
  table: 'trailers',
  entity: 'trailer',
  schema: 'ferry.trailers.v1',
  statusField: 'status',
  fields: [
    { name: 'id', out: 'id', kind: 'id', required: true },
    { name: 'trailer_number', out: 'trailerNumber', kind: 'string', required: true, maxLength: 64 },
    {
      name: 'trailer_type',
      out: 'trailerType',
      kind: 'enum',
      required: true,
      values: ['dry_van', 'reefer', 'flatbed', 'tanker'],
    },
    { name: 'capacity_weight', out: 'capacityKg', kind: 'weight', required: true, unit: 'capacity_unit' },
    { name: 'capacity_unit', out: '', kind: 'enum', required: true, values: ['kg', 'lb'] },
    { name: 'status', out: 'status', kind: 'enum', required: true, values: TRAILER_STATUSES },
    { name: 'home_facility', out: 'homeFacility', kind: 'facility', required: true },
    { name: 'current_facility', out: 'currentFacility', kind: 'facility', required: false },
    { name: 'created_at', out: 'createdAt', kind: 'timestamp', required: true },
    { name: 'updated_at', out: 'updatedAt', kind: 'timestamp', required: true },
  ],
  transitions: {
    available: ['loading', 'maintenance'],
    loading: ['in_transit', 'available'],
    in_transit: ['unloading'],
    unloading: ['available'],
    maintenance: ['available', 'retired'],
    retired: [],
  },
};

export const cleanTrailerSchema = cleanEventSchema(trailers);
export const trailerChangeSchema = changeEnvelopeSchema(trailers);
