// Generated from rules.json by `ferry transform build`; do not edit. Change rules.json
// (the one declaration of these rules; the valibot contract is built from it too) and build again.
import { EntitySpec, Field, KIND_ENUM, KIND_FACILITY, KIND_ID, KIND_INT, KIND_STRING, KIND_TIMESTAMP, KIND_WEIGHT, MAX_SAFE_INTEGER } from '../supply-chain/spec';

export const spec = new EntitySpec('loads', 'load', 'ferry.loads.v1', [
  new Field('id', 'id', KIND_ID, true),
  new Field('load_number', 'loadNumber', KIND_STRING, true).length(64),
  new Field('trailer_id', 'trailerId', KIND_INT, false).range(1, MAX_SAFE_INTEGER),
  new Field('origin_facility', 'origin', KIND_FACILITY, true),
  new Field('destination_facility', 'destination', KIND_FACILITY, true),
  new Field('status', 'status', KIND_ENUM, true).oneOf(['planned', 'tendered', 'assigned', 'picked_up', 'in_transit', 'delivered', 'cancelled']),
  new Field('gross_weight', 'grossWeightKg', KIND_WEIGHT, true).unit(7),
  new Field('weight_unit', '', KIND_ENUM, true).oneOf(['kg', 'lb']),
  new Field('planned_departure', 'plannedDeparture', KIND_TIMESTAMP, false),
  new Field('departed_at', 'departedAt', KIND_TIMESTAMP, false),
  new Field('arrived_at', 'arrivedAt', KIND_TIMESTAMP, false),
  new Field('created_at', 'createdAt', KIND_TIMESTAMP, true),
  new Field('updated_at', 'updatedAt', KIND_TIMESTAMP, true),
]).withTransitions(
  5,
  ['planned', 'tendered', 'assigned', 'picked_up', 'in_transit'],
  [
    ['tendered', 'cancelled'],
    ['assigned', 'cancelled'],
    ['picked_up', 'cancelled'],
    ['in_transit'],
    ['delivered'],
  ],
);
