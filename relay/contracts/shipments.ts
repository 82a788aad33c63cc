// clean.shipments: columns of public.shipments (deploy/local/sql/schema.sql) in the order the
// transform checks them (transforms/shipments/index.ts); life cycle in `transitions` below
// (the generator walks it: deploy/local/generator/statuses.ts).
import { MAX_SAFE } from './codes.ts';
import { changeEnvelopeSchema, cleanEventSchema, type EntityContract } from './entity.ts';

export const SHIPMENT_STATUSES = [
  'created',
  'booked',
  'picked_up',
  'in_transit',
  'out_for_delivery',
  'delivered',
  'exception',
  'cancelled',
] as const;

export const shipments: EntityContract = {
  table: 'shipments',
  entity: 'shipment',
  schema: 'ferry.shipments.v1',
  statusField: 'status',
  fields: [
    { name: 'id', out: 'id', kind: 'id', required: true },
    { name: 'tracking_number', out: 'trackingNumber', kind: 'string', required: true, maxLength: 64 },
    { name: 'load_id', out: 'loadId', kind: 'int', required: false, min: 1, max: MAX_SAFE },
    { name: 'customer_ref', out: 'customerRef', kind: 'string', required: false, maxLength: 64 },
    { name: 'origin_facility', out: 'origin', kind: 'facility', required: true },
    { name: 'destination_facility', out: 'destination', kind: 'facility', required: true },
    { name: 'status', out: 'status', kind: 'enum', required: true, values: SHIPMENT_STATUSES },
    { name: 'weight', out: 'weightKg', kind: 'weight', required: true, unit: 'weight_unit' },
    { name: 'weight_unit', out: '', kind: 'enum', required: true, values: ['kg', 'lb'] },
    { name: 'pieces', out: 'pieces', kind: 'int', required: true, min: 1, max: 10_000 },
    {
      name: 'declared_value_cents',
      out: 'declaredValueCents',
      kind: 'int',
      required: false,
      min: 0,
      max: MAX_SAFE,
    },
    { name: 'promised_delivery', out: 'promisedDelivery', kind: 'timestamp', required: false },
    { name: 'delivered_at', out: 'deliveredAt', kind: 'timestamp', required: false },
    { name: 'created_at', out: 'createdAt', kind: 'timestamp', required: true },
    { name: 'updated_at', out: 'updatedAt', kind: 'timestamp', required: true },
  ],
  transitions: {
    created: ['booked', 'cancelled'],
    booked: ['picked_up', 'cancelled'],
    picked_up: ['in_transit', 'exception'],
    in_transit: ['out_for_delivery', 'exception'],
    out_for_delivery: ['delivered', 'exception'],
    exception: ['in_transit', 'cancelled'],
    delivered: [],
    cancelled: [],
  },
};

export const cleanShipmentSchema = cleanEventSchema(shipments);
export const shipmentChangeSchema = changeEnvelopeSchema(shipments);
