// Generated from rules.json by `ferry transform build`; do not edit. Change rules.json
// (the one declaration of these rules; the valibot contract is built from it too) and build again.
import { EntitySpec, Field, KIND_ENUM, KIND_FACILITY, KIND_ID, KIND_STRING, KIND_TIMESTAMP, KIND_WEIGHT } from '../supply-chain/spec';

export const spec = new EntitySpec('trailers', 'trailer', 'ferry.trailers.v1', [
  new Field('id', 'id', KIND_ID, true),
  new Field('trailer_number', 'trailerNumber', KIND_STRING, true).length(64),
  new Field('trailer_type', 'trailerType', KIND_ENUM, true).oneOf(['dry_van', 'reefer', 'flatbed', 'tanker']),
  new Field('capacity_weight', 'capacityKg', KIND_WEIGHT, true).unit(4),
  new Field('capacity_unit', '', KIND_ENUM, true).oneOf(['kg', 'lb']),
  new Field('status', 'status', KIND_ENUM, true).oneOf(['available', 'loading', 'in_transit', 'unloading', 'maintenance', 'retired']),
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
