// trailers: cdc.public.trailers (Debezium) -> clean.trailers, invalid records -> dlq.transform.
// Columns from deploy/local/sql/schema.sql, validated in this order (relay/contracts/trailers.ts
// states the same rules); status transitions from relay/contracts/trailers.ts
// (test/unit/transforms-corpus.test.ts checks every pair against it).
import { runEntityTransform } from '../supply-chain/run';
import {
  EntitySpec,
  Field,
  KIND_ENUM,
  KIND_FACILITY,
  KIND_ID,
  KIND_STRING,
  KIND_TIMESTAMP,
  KIND_WEIGHT,
} from '../supply-chain/spec';

const STATUSES: string[] = ['available', 'loading', 'in_transit', 'unloading', 'maintenance', 'retired'];

const spec = new EntitySpec('trailers', 'trailer', 'ferry.trailers.v1', [
  new Field('id', 'id', KIND_ID, true),
  new Field('trailer_number', 'trailerNumber', KIND_STRING, true).length(64),
  new Field('trailer_type', 'trailerType', KIND_ENUM, true).oneOf(['dry_van', 'reefer', 'flatbed', 'tanker']),
  new Field('capacity_weight', 'capacityKg', KIND_WEIGHT, true).unit(4),
  new Field('capacity_unit', '', KIND_ENUM, true).oneOf(['kg', 'lb']),
  new Field('status', 'status', KIND_ENUM, true).oneOf(STATUSES),
  new Field('home_facility', 'homeFacility', KIND_FACILITY, true),
  new Field('current_facility', 'currentFacility', KIND_FACILITY, false),
  new Field('created_at', 'createdAt', KIND_TIMESTAMP, true),
  new Field('updated_at', 'updatedAt', KIND_TIMESTAMP, true),
]).withTransitions(
  5,
  ['available', 'loading', 'in_transit', 'unloading', 'maintenance'],
  [
    ['loading', 'maintenance'],
    ['in_transit', 'available'],
    ['unloading'],
    ['available'],
    ['available', 'retired'],
  ],
);

runEntityTransform(spec);
