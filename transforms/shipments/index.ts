// shipments: cdc.public.shipments (Debezium) -> clean.shipments, invalid records -> dlq.transform.
// Columns from deploy/local/sql/schema.sql, validated in this order (relay/contracts/shipments.ts
// states the same rules); status transitions from relay/contracts/shipments.ts
// (test/unit/transforms-corpus.test.ts checks every pair against it).

import { runEntityTransform } from '../supply-chain/run';
import {
  EntitySpec,
  Field,
  KIND_ENUM,
  KIND_FACILITY,
  KIND_ID,
  KIND_INT,
  KIND_STRING,
  KIND_TIMESTAMP,
  KIND_WEIGHT,
  MAX_SAFE_INTEGER,
} from '../supply-chain/spec';

const STATUSES: string[] = [
  'created',
  'booked',
  'picked_up',
  'in_transit',
  'out_for_delivery',
  'delivered',
  'exception',
  'cancelled',
];

const spec = new EntitySpec('shipments', 'shipment', 'ferry.shipments.v1', [
  new Field('id', 'id', KIND_ID, true),
  new Field('tracking_number', 'trackingNumber', KIND_STRING, true).length(64),
  new Field('load_id', 'loadId', KIND_INT, false).range(1, MAX_SAFE_INTEGER),
  new Field('customer_ref', 'customerRef', KIND_STRING, false).length(64),
  new Field('origin_facility', 'origin', KIND_FACILITY, true),
  new Field('destination_facility', 'destination', KIND_FACILITY, true),
  new Field('status', 'status', KIND_ENUM, true).oneOf(STATUSES),
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

runEntityTransform(spec);
