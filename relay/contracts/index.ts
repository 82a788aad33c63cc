// Contracts of the clean topics (what subscribing teams receive) and of the CDC records the
// supply-chain transforms accept. JSON Schema exports live in json-schema/ (npm run contracts:export).
export { ERROR_CODES, type ErrorCode, MAX_DEPTH } from './codes.ts';
export { envelopeHeadSchema, envelopeSchema, isPlainObject, opSchema, sourceSchema } from './debezium.ts';
export {
  changeEnvelopeSchema,
  cleanDataSchema,
  cleanEventSchema,
  type EntityContract,
  rowImageSchema,
} from './entity.ts';
export { FACILITIES, type Facility, facilityByCode } from './facilities.ts';
export { type FieldKind, type FieldSpec, rowSchema, valueSchema } from './fields.ts';
export { cleanLoadSchema, LOAD_STATUSES, loadChangeSchema, loads } from './loads.ts';
export { cleanShipmentSchema, SHIPMENT_STATUSES, shipmentChangeSchema, shipments } from './shipments.ts';
export { isTimestamp, parseTimestamp } from './time.ts';
export { cleanTrailerSchema, TRAILER_STATUSES, trailerChangeSchema, trailers } from './trailers.ts';
export { judgeChange, type Verdict } from './verdict.ts';

import type * as v from 'valibot';
import type { cleanEventSchema, EntityContract } from './entity.ts';
import { loads } from './loads.ts';
import { shipments } from './shipments.ts';
import { trailers } from './trailers.ts';

export const ENTITIES: Readonly<Record<string, EntityContract>> = { shipments, trailers, loads };

/** A clean event as subscribers receive it (`data`'s members per entity are in the JSON Schema files). */
export type CleanEvent = v.InferOutput<ReturnType<typeof cleanEventSchema>>;
