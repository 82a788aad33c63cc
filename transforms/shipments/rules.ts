// Generated from rules.json by `ferry transform build`; do not edit. Change rules.json
// (the one declaration of these rules; the valibot contract is built from it too) and build again.
import { EntitySpec, Field, KIND_ENUM, KIND_FACILITY, KIND_ID, KIND_INT, KIND_STRING, KIND_TIMESTAMP, KIND_WEIGHT, MAX_SAFE_INTEGER } from '../supply-chain/spec';

export const spec = new EntitySpec('shipments', 'shipment', 'ferry.shipments.v1', [
  new Field('id', 'id', KIND_ID, true),
  new Field('tracking_number', 'trackingNumber', KIND_STRING, true).length(64),
  new Field('load_id', 'loadId', KIND_INT, false).range(1, MAX_SAFE_INTEGER),
  new Field('customer_ref', 'customerRef', KIND_STRING, false).length(64),
  new Field('origin_facility', 'origin', KIND_FACILITY, true),
  new Field('destination_facility', 'destination', KIND_FACILITY, true),
  new Field('status', 'status', KIND_ENUM, true).oneOf(['created', 'booked', 'picked_up', 'in_transit', 'out_for_delivery', 'delivered', 'exception', 'cancelled']),
  new Field('weight', 'weightKg', KIND_WEIGHT, true).unit(8),
  new Field('weight_unit', '', KIND_ENUM, true).oneOf(['kg', 'lb']),
  new Field('pieces', 'pieces', KIND_INT, true).range(1, 10000),
  new Field('declared_value_cents', 'declaredValueCents', KIND_INT, false).range(0, MAX_SAFE_INTEGER),
  new Field('promised_delivery', 'promisedDelivery', KIND_TIMESTAMP, false),
  new Field('delivered_at', 'deliveredAt', KIND_TIMESTAMP, false),
  new Field('created_at', 'createdAt', KIND_TIMESTAMP, true),
  new Field('updated_at', 'updatedAt', KIND_TIMESTAMP, true),
]).withTransitions(
  6,
  ['created', 'booked', 'picked_up', 'in_transit', 'out_for_delivery', 'exception'],
  [
    ['booked', 'cancelled'],
    ['picked_up', 'cancelled'],
    ['in_transit', 'exception'],
    ['out_for_delivery', 'exception'],
    ['delivered', 'exception'],
    ['in_transit', 'cancelled'],
  ],
);
