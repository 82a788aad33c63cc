// How an entity's row is described: one Field per column, validated in this order, one rule per
// failure. An entity's table is generated from its rules.json (transforms/<entity>/rules.ts), the
// declaration relay/contracts builds the valibot schemas from; the shared fixture corpus checks that
// both give the same verdict (code and field) on every record.

export const KIND_ID: i32 = 1; // integer 1..2^53-1, required
export const KIND_STRING: i32 = 2; // string, 1..maxLen UTF-16 units
export const KIND_ENUM: i32 = 3; // one of values
export const KIND_FACILITY: i32 = 4; // a known facility code; output enriched with region and time zone
export const KIND_WEIGHT: i32 = 5; // number, 0 < w <= 100000 in the unit named by unitField; output in kg
export const KIND_INT: i32 = 6; // integer min..max
export const KIND_TIMESTAMP: i32 = 7; // ISO-8601 timestamp (time.ts); output UTC ms
export const KIND_NUMBER: i32 = 8; // number min..max (any fraction); output as it came
export const KIND_BOOL: i32 = 9; // true or false

export const MAX_SAFE_INTEGER: f64 = 9007199254740991;
export const WEIGHT_MAX: f64 = 100000;
export const LB_TO_KG: f64 = 0.45359237;

export class Field {
  name: string;
  /** Key in the clean event's data object; "" = not emitted (e.g. a unit folded into a weight). */
  out: string;
  kind: i32;
  required: bool;
  min: f64 = 0;
  max: f64 = MAX_SAFE_INTEGER;
  maxLen: i32 = 64;
  values: string[] = [];
  /** For KIND_WEIGHT: index of the unit field (an enum whose values include "kg" and "lb"). */
  unitField: i32 = -1;
  // Filled by EntitySpec.prepare():
  nameBytes: ArrayBuffer = new ArrayBuffer(0);
  valueBytes: ArrayBuffer[] = [];
  outKey: ArrayBuffer = new ArrayBuffer(0);
  afterPath: string = '';
  beforePath: string = '';

  constructor(name: string, out: string, kind: i32, required: bool) {
    this.name = name;
    this.out = out;
    this.kind = kind;
    this.required = required;
  }

  range(min: f64, max: f64): Field {
    this.min = min;
    this.max = max;
    return this;
  }

  oneOf(values: string[]): Field {
    this.values = values;
    return this;
  }

  unit(index: i32): Field {
    this.unitField = index;
    return this;
  }

  length(maxLen: i32): Field {
    this.maxLen = maxLen;
    return this;
  }
}

export class EntitySpec {
  /** Source table (source.table must equal it) and clean topic suffix. */
  table: string;
  /** Singular name in clean events ("shipment"). */
  entity: string;
  /** Value of the ferry-schema header and the event's schema field. */
  schema: string;
  fields: Field[];
  /** Index of the status field (enum) and its allowed transitions, from -> to lists by name. */
  statusField: i32 = -1;
  transitions: Map<string, string[]> = new Map<string, string[]>();
  /** allowed[from * n + to], over the status enum's value indices. */
  allowed: StaticArray<bool> = new StaticArray<bool>(0);

  constructor(table: string, entity: string, schema: string, fields: Field[]) {
    this.table = table;
    this.entity = entity;
    this.schema = schema;
    this.fields = fields;
  }

  withTransitions(statusField: i32, from: string[], to: string[][]): EntitySpec {
    this.statusField = statusField;
    for (let i = 0; i < from.length; i++) this.transitions.set(from[i], to[i]);
    return this;
  }

  /** Precomputes byte forms of names and values so records are processed without allocating. */
  prepare(): EntitySpec {
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i];
      f.nameBytes = String.UTF8.encode(f.name);
      f.outKey = String.UTF8.encode('"' + f.out + '":');
      f.afterPath = 'after.' + f.name;
      f.beforePath = 'before.' + f.name;
      for (let j = 0; j < f.values.length; j++) f.valueBytes.push(String.UTF8.encode(f.values[j]));
    }
    if (this.statusField >= 0) {
      const values = this.fields[this.statusField].values;
      const n = values.length;
      this.allowed = new StaticArray<bool>(n * n);
      for (let a = 0; a < n; a++) {
        const from = values[a];
        this.allowed[a * n + a] = true; // same status: not a transition
        if (!this.transitions.has(from)) continue;
        const tos = this.transitions.get(from);
        for (let b = 0; b < n; b++) {
          if (tos.includes(values[b])) this.allowed[a * n + b] = true;
        }
      }
    }
    return this;
  }
}
