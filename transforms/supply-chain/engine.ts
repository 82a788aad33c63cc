// Debezium envelope in, clean event out, straight from the UTF-8 bytes (sdk/json.ts): no AS strings
// and no JSON tree on the hot path. The rules, in the order they are checked (first failure wins,
// one code per failure; relay/contracts/verdict.ts checks the same ones in the same order):
//
//   1. value bytes valid UTF-8                       invalid_utf8        field ""
//   2. one JSON value                                invalid_json        field ""
//   3. nesting at most 32 deep                       too_deep            field ""
//   4. the value is an object                        not_an_object       field ""
//   5. op: string, one of c u d r                    missing_field | wrong_type | invalid_enum
//   6. source: object                                missing_field | wrong_type
//   7. source.lsn: integer 0..2^53-1;                missing_field | wrong_type | out_of_range
//      source.ts_ms: integer 0..253402300799999 (year 9999)
//      source.table: the entity's table              missing_field | wrong_type | wrong_table
//   8. c, r, u: after is an object; d: before is     missing_field | wrong_type
//   9. the image's columns in table order (spec.ts); a delete checks only the primary key
//  10. u: before.status -> after.status is a legal   illegal_transition  field "after.<status field>"
//      transition (checked when before.status is a known status)
//
// Null counts as missing. Duplicate keys: the last wins (as JSON.parse).
import { ByteBuilder, copyBytes, PADDED_MIN, Padded, put2, putInt } from '../sdk/builder';
import {
  bytesEq,
  decodedLen,
  decodeShort,
  JSON_DEPTH,
  JSON_MAX_DEPTH,
  JSON_OK,
  JSON_UTF8,
  JsonTape,
  K_FALSE,
  K_NULL,
  K_NUMBER,
  K_OBJECT,
  K_STRING,
  K_TRUE,
  kindAt,
  ObjectIter,
  parseNumber,
  skipWs,
  stringUnits,
  validateJson,
} from '../sdk/json';
import { CodeTable, head, headWithin } from './codes';
import { FACILITY_CODES, FACILITY_REGIONS, FACILITY_TIME_ZONES } from './facilities';
import {
  EntitySpec,
  Field,
  KIND_BOOL,
  KIND_ENUM,
  KIND_FACILITY,
  KIND_ID,
  KIND_INT,
  KIND_NUMBER,
  KIND_STRING,
  KIND_TIMESTAMP,
  KIND_WEIGHT,
  LB_TO_KG,
  MAX_SAFE_INTEGER,
  WEIGHT_MAX,
} from './spec';
import { formatTimestamp, MAX_MS, parseTimestamp, timestampOk } from './time';

const OP_NAMES: string[] = ['created', 'updated', 'deleted', 'snapshot'];
const K_OP = String.UTF8.encode('op');
const K_SOURCE = String.UTF8.encode('source');
const K_BEFORE = String.UTF8.encode('before');
const K_AFTER = String.UTF8.encode('after');
const K_LSN = String.UTF8.encode('lsn');
const K_TABLE = String.UTF8.encode('table');
const K_TS_MS = String.UTF8.encode('ts_ms');
// The clean event's fixed fragments, padded for Padded.put (see emit).
const S_LSN = new Padded(String.UTF8.encode(',"lsn":'));
const S_OCCURRED = new Padded(String.UTF8.encode(',"occurredAt":"'));
const S_DATA = new Padded(String.UTF8.encode('","data":{'));
const S_NO_DATA = new Padded(String.UTF8.encode('","data":null'));
const S_NULL = new Padded(String.UTF8.encode('null'));
const S_END_NULL = new Padded(String.UTF8.encode(',"previousStatus":null}'));

/** A prepared byte snippet per facility: {"code":..,"region":..,"timeZone":..}. */
function facilitySnippets(): Padded[] {
  const out: Padded[] = [];
  for (let i = 0; i < FACILITY_CODES.length; i++) {
    out.push(
      new Padded(
        String.UTF8.encode(
          '{"code":"' +
            FACILITY_CODES[i] +
            '","region":"' +
            FACILITY_REGIONS[i] +
            '","timeZone":"' +
            FACILITY_TIME_ZONES[i] +
            '"}',
        ),
      ),
    );
  }
  return out;
}

function bytesEqual(p: usize, n: i32, b: ArrayBuffer): bool {
  if (n != b.byteLength) return false;
  return bytesEq(p, changetype<usize>(b), n);
}

function isInteger(v: f64): bool {
  return isFinite(v) && Math.trunc(v) == v;
}

/** Bytes kept free before the clean event in `out`, for framing it as a payload in place. */
export const VALUE_FRONT: i32 = 32;

/** Most bytes of the ferry-unknown-fields list (names past it are left out). */
export const UNKNOWN_MAX: i32 = 512;

/** Length of the last stringContent result (-1: an escaped string too long to compare). */
let contentLen: i32 = 0;

/**
 * The content of the string literal [p, ve) (a validated literal, quotes included): a view into the
 * input when it has no escapes, else decoded into the scanner's scratch (decodeShort). Sets contentLen.
 */
function stringContent(p: usize, ve: usize, escaped: bool, end: usize): usize {
  if (!escaped) {
    contentLen = <i32>(ve - p) - 2;
    return p + 1;
  }
  const s = decodeShort(p, end);
  contentLen = decodedLen;
  return s;
}

/** Whether the literal [p, ve) has a backslash (for members found without the tape). */
function hasEscape(p: usize, ve: usize): bool {
  for (let q = p + 1; q < ve; q++) if (load<u8>(q) == 0x5c) return true;
  return false;
}

/** JavaScript's .length of the string literal [p, ve): stringUnits, quicker when it has no escapes. */
function literalUnits(p: usize, ve: usize, escaped: bool, end: usize): i32 {
  if (escaped) return stringUnits(p, end);
  let q = p + 1;
  const stop = ve - 1;
  let units = 0;
  while (q + 8 <= stop && (load<u64>(q) & 0x8080808080808080) == 0) {
    units += 8;
    q += 8;
  }
  // One unit per byte that starts a character, two for a 4-byte sequence (a surrogate pair).
  for (; q < stop; q++) {
    const c = <u32>load<u8>(q);
    if ((c & 0xc0) != 0x80) units += c >= 0xf0 ? 2 : 1;
  }
  return units;
}

/** A non-negative number of thousandths in decimal (as emitValue's weights: no trailing zeros). */
function putMillis(q: usize, millis: u32): usize {
  q = putInt(q, <i64>(millis / 1000));
  const frac = millis % 1000;
  if (frac == 0) return q;
  store<u8>(q++, 0x2e);
  if (frac % 100 == 0) {
    store<u8>(q, <u8>(0x30 + frac / 100));
    return q + 1;
  }
  if (frac % 10 == 0) {
    put2(q, frac / 10);
    return q + 2;
  }
  store<u8>(q, <u8>(0x30 + frac / 100));
  put2(q + 1, frac % 100);
  return q + 3;
}

export class ChangeProcessor {
  spec: EntitySpec;
  /** The clean event (valid when run() returned true), at [ptr + VALUE_FRONT, ptr + len). */
  out: ByteBuilder = new ByteBuilder(2048);
  /** ferry-event-id value. */
  eventId: ByteBuilder = new ByteBuilder(64);
  /** The clean record's key: the primary key in decimal. */
  key: ByteBuilder = new ByteBuilder(24);
  /** Set when run() returned false. */
  errorCode: string = '';
  errorField: string = '';
  errorMessage: string = '';
  /**
   * Columns of the image that the entity's rules do not name (a column added upstream), comma
   * separated; empty for most records. Set when run() returned true; reported, never a failure.
   */
  unknown: ByteBuilder = new ByteBuilder(64);

  // Per-record slots, one per field: value start (0 = absent) and end, whether a string value has
  // escapes; parsed forms.
  vp: StaticArray<usize> = new StaticArray<usize>(0);
  ve: StaticArray<usize> = new StaticArray<usize>(0);
  vesc: StaticArray<bool> = new StaticArray<bool>(0);
  num: StaticArray<f64> = new StaticArray<f64>(0);
  idx: StaticArray<i32> = new StaticArray<i32>(0);
  ts: StaticArray<i64> = new StaticArray<i64>(0);
  facilities: Padded[] = facilitySnippets();
  facilityCodes: CodeTable = new CodeTable([]);
  /** Per field: its enum values as a CodeTable (empty for other kinds). */
  enums: CodeTable[] = [];
  /** Per field: for a weight, the index of "lb" among its unit field's values (-1: none). */
  lbIndex: StaticArray<i32> = new StaticArray<i32>(0);
  /** Per op: the event from the closing quote of eventId to the id's value ('","schema":..,"id":'). */
  opParts: Padded[] = [];
  /** Per field: its key in the data object, with the comma before it (not for the first). */
  dataKeys: Padded[] = [];
  /** Per status value: ',"previousStatus":"<value>"}' (the event's end). */
  previousParts: Padded[] = [];
  iter: ObjectIter = new ObjectIter();
  tape: JsonTape = new JsonTape(256);
  tableBytes: ArrayBuffer = new ArrayBuffer(0);
  eventIdPrefix: ArrayBuffer = new ArrayBuffer(0);
  head: Padded = new Padded(new ArrayBuffer(0));
  entityPart: ArrayBuffer = new ArrayBuffer(0);
  /** The clean event's size beyond the input's own bytes, at most (see emit). */
  fixedBound: i32 = 0;

  nameLen: StaticArray<i32> = new StaticArray<i32>(0);
  /** byLength[n]: bit i set when field i's name is n bytes long (names < 64 bytes, <= 32 fields). */
  byLength: StaticArray<u32> = new StaticArray<u32>(64);
  /** Per field: the first 8 bytes of its name (codes.ts head) and where the name is. */
  nameHead: StaticArray<u64> = new StaticArray<u64>(0);
  namePtr: StaticArray<usize> = new StaticArray<usize>(0);

  constructor(spec: EntitySpec) {
    this.spec = spec.prepare();
    const n = spec.fields.length;
    this.nameLen = new StaticArray<i32>(n);
    this.nameHead = new StaticArray<u64>(n);
    this.namePtr = new StaticArray<usize>(n);
    for (let i = 0; i < n; i++) {
      const nb = spec.fields[i].nameBytes;
      this.nameLen[i] = nb.byteLength;
      this.nameHead[i] = head(changetype<usize>(nb), nb.byteLength);
      this.namePtr[i] = changetype<usize>(nb);
      if (nb.byteLength < 64 && i < 32) this.byLength[nb.byteLength] |= (<u32>1) << (<u32>i);
    }
    this.vp = new StaticArray<usize>(n);
    this.ve = new StaticArray<usize>(n);
    this.vesc = new StaticArray<bool>(n);
    this.num = new StaticArray<f64>(n);
    this.idx = new StaticArray<i32>(n);
    this.ts = new StaticArray<i64>(n);
    this.lbIndex = new StaticArray<i32>(n);
    const codes: ArrayBuffer[] = [];
    for (let i = 0; i < FACILITY_CODES.length; i++) codes.push(String.UTF8.encode(FACILITY_CODES[i]));
    this.facilityCodes = new CodeTable(codes);
    let snippetMax = 0;
    for (let i = 0; i < this.facilities.length; i++) snippetMax = max(snippetMax, this.facilities[i].len);
    // Per field at most: its key, a comma, and a value that is either a literal from the input (counted
    // in the input's length) or one of: a number (<= 24), a timestamp (26), a facility snippet, null.
    let bound = 0;
    for (let i = 0; i < n; i++) {
      const f = spec.fields[i];
      this.enums.push(new CodeTable(f.valueBytes));
      this.lbIndex[i] = f.unitField >= 0 ? spec.fields[f.unitField].values.indexOf('lb') : -1;
      bound += f.outKey.byteLength + 1 + max(32, snippetMax);
    }
    let firstKey = true;
    for (let i = 0; i < n; i++) {
      const f = spec.fields[i];
      this.dataKeys.push(
        new Padded(String.UTF8.encode(f.out.length == 0 ? '' : (firstKey ? '' : ',') + '"' + f.out + '":')),
      );
      if (f.out.length != 0) firstKey = false;
    }
    const entityPart = '","schema":"' + spec.schema + '","entity":"' + spec.entity + '","op":"';
    for (let i = 0; i < OP_NAMES.length; i++)
      this.opParts.push(new Padded(String.UTF8.encode(entityPart + OP_NAMES[i] + '","id":')));
    if (spec.statusField >= 0) {
      const values = spec.fields[spec.statusField].values;
      for (let i = 0; i < values.length; i++)
        this.previousParts.push(new Padded(String.UTF8.encode(',"previousStatus":"' + values[i] + '"}')));
    }
    this.tableBytes = String.UTF8.encode(spec.table);
    this.eventIdPrefix = String.UTF8.encode('pg:' + spec.table + ':');
    this.head = new Padded(String.UTF8.encode('{"eventId":"'));
    this.entityPart = String.UTF8.encode(entityPart);
    // The envelope around the data: head, event id (prefix and two integers), entity part, op, id,
    // lsn, occurredAt, data, previousStatus (a status value from the spec), and room to spare.
    let statusMax = 0;
    if (spec.statusField >= 0) {
      const vb = spec.fields[spec.statusField].valueBytes;
      for (let i = 0; i < vb.length; i++) statusMax = max(statusMax, vb[i].byteLength);
    }
    // PADDED_MIN: the padding the last Padded.put stores past the event's end.
    this.fixedBound =
      bound +
      this.head.len +
      this.eventIdPrefix.byteLength +
      this.entityPart.byteLength +
      statusMax +
      256 +
      PADDED_MIN;
  }

  fail(code: string, field: string, message: string): bool {
    this.errorCode = code;
    this.errorField = field;
    this.errorMessage = message;
    return false;
  }

  /** Checks presence and JSON kind; returns false (after fail()) when the value cannot be used. */
  present(p: usize, end: usize, kind: i32, field: string, typeName: string): bool {
    if (p == 0 || kindAt(p, end) == K_NULL) return this.fail('missing_field', field, field + ' is required');
    if (kindAt(p, end) != kind) return this.fail('wrong_type', field, field + ' must be ' + typeName);
    return true;
  }

  /** An integer in [min, max] at p (already known present); sets lastNumber. */
  integer(p: usize, end: usize, min: f64, max: f64, field: string): bool {
    const v = parseNumber(p, end);
    this.lastNumber = v;
    if (!isInteger(v) || v < min || v > max) {
      return this.fail(
        'out_of_range',
        field,
        field + ' must be an integer in ' + (<i64>min).toString() + '..' + (<i64>max).toString(),
      );
    }
    return true;
  }
  lastNumber: f64 = 0;

  /** Validates and converts one Debezium change. true = clean event in out/key/eventId. */
  run(ptr: usize, len: i32): bool {
    const err = validateJson(ptr, len, JSON_MAX_DEPTH, this.tape);
    if (err != JSON_OK) {
      if (err == JSON_UTF8) return this.fail('invalid_utf8', '', 'the value is not valid UTF-8');
      if (err == JSON_DEPTH) return this.fail('too_deep', '', 'the value nests deeper than 32 levels');
      return this.fail('invalid_json', '', 'the value is not valid JSON');
    }
    const end = ptr + <usize>len;
    const root = skipWs(ptr, end);
    if (kindAt(root, end) != K_OBJECT)
      return this.fail('not_an_object', '', 'the value must be a JSON object');

    // Envelope members (last duplicate wins), from the tape validateJson filled; ObjectIter when
    // a hostile document had more members than the tape holds.
    const tape = this.tape;
    const fast = !tape.overflow;
    let opP: usize = 0,
      opE: usize = 0,
      sourceP: usize = 0,
      beforeP: usize = 0,
      afterP: usize = 0;
    let opEsc = false;
    let sourceI = -1,
      beforeI = -1,
      afterI = -1;
    const it = this.iter;
    if (fast) {
      for (let r = 0; r < tape.rootCount; r++) {
        const i = tape.root(r);
        // Dispatch on the key's length first: most envelope members match no name at all.
        const kl = tape.keyEscaped(i) ? -1 : tape.keyLen(i);
        if ((kl == 2 || kl < 0) && tape.keyEq(i, K_OP, end)) {
          opP = tape.valuePtr(i);
          opE = tape.valueEnd(i);
          opEsc = tape.valueEscaped(i);
        } else if ((kl == 6 || kl < 0) && tape.keyEq(i, K_SOURCE, end)) {
          sourceP = tape.valuePtr(i);
          sourceI = i;
        } else if ((kl == 6 || kl < 0) && tape.keyEq(i, K_BEFORE, end)) {
          beforeP = tape.valuePtr(i);
          beforeI = i;
        } else if ((kl == 5 || kl < 0) && tape.keyEq(i, K_AFTER, end)) {
          afterP = tape.valuePtr(i);
          afterI = i;
        }
      }
    } else {
      it.start(root, end);
      while (it.next()) {
        if (it.keyIs('op')) {
          opP = it.valuePtr;
          opE = it.valueEnd;
        } else if (it.keyIs('source')) sourceP = it.valuePtr;
        else if (it.keyIs('before')) beforeP = it.valuePtr;
        else if (it.keyIs('after')) afterP = it.valuePtr;
      }
      if (opP != 0) opEsc = hasEscape(opP, opE);
    }

    // 5. op
    if (!this.present(opP, end, K_STRING, 'op', 'a string')) return false;
    let op = -1;
    let s = stringContent(opP, opE, opEsc, end);
    if (contentLen == 1) {
      const c = load<u8>(s);
      op = c == 0x63 ? 0 : c == 0x75 ? 1 : c == 0x64 ? 2 : c == 0x72 ? 3 : -1;
    }
    if (op < 0) return this.fail('invalid_enum', 'op', 'op must be one of c, u, d, r');

    // 6-7. source
    if (!this.present(sourceP, end, K_OBJECT, 'source', 'an object')) return false;
    let lsnP: usize = 0,
      tableP: usize = 0,
      tableE: usize = 0,
      tsP: usize = 0;
    let tableEsc = false;
    if (fast) {
      for (let i = sourceI + 1; i < tape.count && tape.depth(i) == 2; i++) {
        const kl = tape.keyEscaped(i) ? -1 : tape.keyLen(i);
        if ((kl == 3 || kl < 0) && tape.keyEq(i, K_LSN, end)) lsnP = tape.valuePtr(i);
        else if ((kl == 5 || kl < 0) && tape.keyEq(i, K_TABLE, end)) {
          tableP = tape.valuePtr(i);
          tableE = tape.valueEnd(i);
          tableEsc = tape.valueEscaped(i);
        } else if ((kl == 5 || kl < 0) && tape.keyEq(i, K_TS_MS, end)) tsP = tape.valuePtr(i);
      }
    } else {
      it.start(sourceP, end);
      while (it.next()) {
        if (it.keyIs('lsn')) lsnP = it.valuePtr;
        else if (it.keyIs('table')) {
          tableP = it.valuePtr;
          tableE = it.valueEnd;
        } else if (it.keyIs('ts_ms')) tsP = it.valuePtr;
      }
      if (tableP != 0) tableEsc = hasEscape(tableP, tableE);
    }
    if (!this.present(lsnP, end, K_NUMBER, 'source.lsn', 'a number')) return false;
    if (!this.integer(lsnP, end, 0, MAX_SAFE_INTEGER, 'source.lsn')) return false;
    const lsn = <i64>this.lastNumber;
    if (!this.present(tableP, end, K_STRING, 'source.table', 'a string')) return false;
    s = stringContent(tableP, tableE, tableEsc, end);
    if (!bytesEqual(s, contentLen, this.tableBytes)) {
      return this.fail('wrong_table', 'source.table', 'source.table must be ' + this.spec.table);
    }
    if (!this.present(tsP, end, K_NUMBER, 'source.ts_ms', 'a number')) return false;
    if (!this.integer(tsP, end, 0, <f64>MAX_MS, 'source.ts_ms')) return false;
    const tsMs = <i64>this.lastNumber;

    // 8. image
    const isDelete = op == 2;
    const imageP = isDelete ? beforeP : afterP;
    if (!this.present(imageP, end, K_OBJECT, isDelete ? 'before' : 'after', 'an object')) return false;

    // 9. columns
    const fields = this.spec.fields;
    const n = fields.length;
    for (let i = 0; i < n; i++) unchecked((this.vp[i] = 0));
    this.unknown.len = 0;
    if (fast) {
      const imageI = isDelete ? beforeI : afterI;
      for (let j = imageI + 1; j < tape.count && tape.depth(j) == 2; j++) {
        const i = this.fieldIndex(tape.keyPtr(j), tape.keyLen(j), tape.keyEscaped(j), end);
        if (i >= 0) {
          unchecked((this.vp[i] = tape.valuePtr(j)));
          unchecked((this.ve[i] = tape.valueEnd(j)));
          unchecked((this.vesc[i] = tape.valueEscaped(j)));
        } else this.noteUnknown(tape.keyPtr(j), tape.keyLen(j), tape.keyEscaped(j), end);
      }
    } else {
      it.start(imageP, end);
      while (it.next()) {
        const i = this.fieldIndex(it.keyPtr, it.keyLen, it.keyEscaped, end);
        if (i >= 0) {
          unchecked((this.vp[i] = it.valuePtr));
          unchecked((this.ve[i] = it.valueEnd));
          unchecked((this.vesc[i] = hasEscape(it.valuePtr, it.valueEnd)));
        } else this.noteUnknown(it.keyPtr, it.keyLen, it.keyEscaped, end);
      }
    }
    const checkCount = isDelete ? 1 : n;
    for (let i = 0; i < checkCount; i++) {
      if (!this.checkField(i, end, isDelete)) return false;
    }

    // 10. status transition
    let previous = -1;
    const sf = this.spec.statusField;
    if (op == 1 && sf >= 0 && beforeP != 0 && kindAt(beforeP, end) == K_OBJECT) {
      let bs: usize = 0;
      let bsEnd: usize = 0;
      let bsEsc = false;
      const statusName = fields[sf].name;
      const statusBytes = fields[sf].nameBytes;
      if (fast) {
        const statusLen = statusBytes.byteLength;
        for (let j = beforeI + 1; j < tape.count && tape.depth(j) == 2; j++) {
          // keyEq only where the raw length matches or the key has escapes (a call per member otherwise)
          if ((tape.keyLen(j) == statusLen || tape.keyEscaped(j)) && tape.keyEq(j, statusBytes, end)) {
            bs = tape.valuePtr(j);
            bsEnd = tape.valueEnd(j);
            bsEsc = tape.valueEscaped(j);
          }
        }
      } else {
        it.start(beforeP, end);
        while (it.next()) {
          if (it.keyIs(statusName)) {
            bs = it.valuePtr;
            bsEnd = it.valueEnd;
          }
        }
        if (bs != 0) bsEsc = hasEscape(bs, bsEnd);
      }
      if (bs != 0 && kindAt(bs, end) == K_STRING) {
        const st = stringContent(bs, bsEnd, bsEsc, end);
        previous = unchecked(this.enums[sf]).find(st, contentLen);
        const to = unchecked(this.idx[sf]);
        const count = fields[sf].values.length;
        if (previous >= 0 && to >= 0 && !this.spec.allowed[previous * count + to]) {
          return this.fail(
            'illegal_transition',
            fields[sf].afterPath,
            'status cannot change from ' + fields[sf].values[previous] + ' to ' + fields[sf].values[to],
          );
        }
      }
    }

    this.emit(op, lsn, tsMs, isDelete, previous);
    return true;
  }

  /**
   * Adds a column the rules do not know to `unknown` (escapes decoded). Off the hot path: only reached
   * for such a column. The list is capped (UNKNOWN_MAX bytes) so a hostile image cannot blow up a header;
   * names with a comma or a control character are skipped (the header is a plain comma-separated list).
   */
  noteUnknown(kp: usize, kl: i32, escaped: bool, end: usize): void {
    if (escaped) {
      kp = decodeShort(kp - 1, end);
      kl = decodedLen;
    }
    if (kl <= 0 || this.unknown.len + kl + 1 > UNKNOWN_MAX) return;
    for (let q: usize = 0; q < <usize>kl; q++) {
      const c = load<u8>(kp + q);
      if (c == 0x2c || c < 0x20) return;
    }
    if (this.unknown.len != 0) this.unknown.byte(0x2c);
    this.unknown.bytes(kp, kl);
  }

  /** Which field a raw key names (escapes decoded when present), or -1. */
  fieldIndex(kp: usize, kl: i32, escaped: bool, end: usize): i32 {
    let h: u64 = 0;
    if (escaped) {
      kp = decodeShort(kp - 1, end);
      kl = decodedLen;
      if (kl <= 0 || kl >= 64) return -1;
      h = head(kp, kl);
    } else {
      if (kl <= 0 || kl >= 64) return -1;
      h = headWithin(kp, kl, end);
    }
    // Only the fields whose name has this length (a bit per field), usually one or two.
    let candidates = unchecked(this.byLength[kl]);
    while (candidates != 0) {
      const i = <i32>ctz(candidates);
      candidates &= candidates - 1;
      if (unchecked(this.nameHead[i]) != h) continue;
      if (kl <= 8 || bytesEq(kp + 8, unchecked(this.namePtr[i]) + 8, kl - 8)) return i;
    }
    return -1;
  }

  checkField(i: i32, end: usize, isDelete: bool): bool {
    const f = unchecked(this.spec.fields[i]);
    const p = unchecked(this.vp[i]);
    const path = isDelete ? f.beforePath : f.afterPath;
    const kind = f.kind;
    if (p == 0 || kindAt(p, end) == K_NULL) {
      if (f.required) return this.fail('missing_field', path, path + ' is required');
      unchecked((this.vp[i] = 0));
      return true;
    }
    const jk = kindAt(p, end);
    if (kind == KIND_ID || kind == KIND_INT || kind == KIND_WEIGHT) {
      if (jk != K_NUMBER) return this.fail('wrong_type', path, path + ' must be a number');
      const v = parseNumber(p, end);
      unchecked((this.num[i] = v));
      if (kind == KIND_WEIGHT) {
        if (!(v > 0 && v <= WEIGHT_MAX))
          return this.fail('out_of_range', path, path + ' must be > 0 and <= 100000');
        return true;
      }
      const min = kind == KIND_ID ? 1 : f.min;
      const max = kind == KIND_ID ? MAX_SAFE_INTEGER : f.max;
      if (!isInteger(v) || v < min || v > max) {
        return this.fail(
          'out_of_range',
          path,
          path + ' must be an integer in ' + (<i64>min).toString() + '..' + (<i64>max).toString(),
        );
      }
      return true;
    }
    if (kind == KIND_NUMBER || kind == KIND_BOOL) {
      // Emitted as the literal that came (emitValue's default), so a number keeps its digits.
      if (kind == KIND_BOOL) {
        if (jk != K_TRUE && jk != K_FALSE)
          return this.fail('wrong_type', path, path + ' must be true or false');
        return true;
      }
      if (jk != K_NUMBER) return this.fail('wrong_type', path, path + ' must be a number');
      const v = parseNumber(p, end);
      // No bounds in the message: formatting an f64 would pull ~3 KB of dtoa into every module.
      if (v < f.min || v > f.max) return this.fail('out_of_range', path, path + ' is out of range');
      return true;
    }
    if (jk != K_STRING) return this.fail('wrong_type', path, path + ' must be a string');
    const ve = unchecked(this.ve[i]);
    const escaped = unchecked(this.vesc[i]);
    if (kind == KIND_STRING) {
      const units = literalUnits(p, ve, escaped, end); // counted on the raw literal: no decoding
      if (units == 0) return this.fail('empty', path, path + ' must not be empty');
      if (units > f.maxLen)
        return this.fail('too_long', path, path + ' must be at most ' + f.maxLen.toString() + ' characters');
      return true;
    }
    const s = stringContent(p, ve, escaped, end);
    if (kind == KIND_ENUM) {
      const j = unchecked(this.enums[i]).find(s, contentLen);
      if (j < 0) return this.fail('invalid_enum', path, path + ' must be one of ' + f.values.join(', '));
      unchecked((this.idx[i] = j));
      return true;
    }
    if (kind == KIND_FACILITY) {
      const found = this.facilityCodes.find(s, contentLen);
      if (found < 0) return this.fail('unknown_facility', path, path + ' is not a known facility code');
      unchecked((this.idx[i] = found));
      return true;
    }
    // KIND_TIMESTAMP
    const t = parseTimestamp(s, contentLen, i); // slot: the column
    if (!timestampOk)
      return this.fail('invalid_timestamp', path, path + ' must be an ISO-8601 timestamp with an offset');
    unchecked((this.ts[i] = t));
    return true;
  }

  /**
   * Writes the clean event into `out` after VALUE_FRONT free bytes. One reservation up front bounds it
   * (fixedBound plus the literals it copies from the input), then plain stores.
   */
  emit(op: i32, lsn: i64, tsMs: i64, isDelete: bool, previous: i32): void {
    const fields = this.spec.fields;
    const id = <i64>unchecked(this.num[0]);
    const e = this.eventId.reset();
    e.bytes(changetype<usize>(this.eventIdPrefix), this.eventIdPrefix.byteLength).int(lsn).byte(0x3a).int(id);
    this.key.reset().int(id);

    // Literals are copied from the input: their spans bound the rest (a huge ignored column does not count).
    let literals = 0;
    if (!isDelete) {
      for (let i = 0; i < fields.length; i++) {
        const p = unchecked(this.vp[i]);
        if (p != 0) literals += <i32>(unchecked(this.ve[i]) - p);
      }
    }
    const b = this.out.reset();
    const base = b.reserve(VALUE_FRONT + this.fixedBound + literals);
    let q = base + <usize>VALUE_FRONT;
    // Fixed fragments go in whole words (Padded.put): each may store padding past its end, which
    // the next write overwrites; the reservation has room for the last one's (fixedBound).
    q = this.head.put(q);
    copyBytes(q, e.ptr, e.len);
    q = putInt(unchecked(this.opParts[op]).put(q + <usize>e.len), id);
    q = putInt(S_LSN.put(q), lsn);
    q = S_OCCURRED.put(q);
    formatTimestamp(q, tsMs, 63); // slot 63: the event time (columns use their index)
    q += 24;
    if (isDelete) {
      q = S_NO_DATA.put(q);
    } else {
      q = S_DATA.put(q);
      const keys = this.dataKeys;
      for (let i = 0; i < fields.length; i++) {
        const k = unchecked(keys[i]);
        if (k.len == 0) continue; // not emitted
        q = this.emitValue(k.put(q), unchecked(fields[i]), i);
      }
      store<u8>(q++, 0x7d);
    }
    q = (previous >= 0 ? unchecked(this.previousParts[previous]) : S_END_NULL).put(q);
    b.len = <i32>(q - base);
  }

  emitValue(q: usize, f: Field, i: i32): usize {
    const p = unchecked(this.vp[i]);
    if (p == 0) return S_NULL.put(q);
    const kind = f.kind;
    if (kind == KIND_ID || kind == KIND_INT) return putInt(q, <i64>unchecked(this.num[i]));
    if (kind == KIND_WEIGHT) {
      let v = unchecked(this.num[i]);
      const u = f.unitField;
      if (u >= 0 && unchecked(this.vp[u]) != 0 && unchecked(this.idx[u]) == unchecked(this.lbIndex[i]))
        v *= LB_TO_KG;
      const millis = <i64>Math.round(v * 1000);
      // weights are checked <= WEIGHT_MAX: millis fits 32 bits, where division is cheap
      if (millis >= 0 && millis <= <i64>i32.MAX_VALUE) return putMillis(q, <u32>millis);
      q = putInt(q, millis / 1000);
      let frac = millis % 1000;
      if (frac != 0) {
        store<u8>(q++, 0x2e);
        let width = 3;
        while (frac % 10 == 0) {
          frac /= 10;
          width--;
        }
        // zero-padded to `width` digits
        for (let k = width - 1; k >= 0; k--) {
          store<u8>(q + <usize>k, <u8>(0x30 + (frac % 10)));
          frac /= 10;
        }
        q += <usize>width;
      }
      return q;
    }
    if (kind == KIND_FACILITY) return unchecked(this.facilities[unchecked(this.idx[i])]).put(q);
    if (kind == KIND_TIMESTAMP) {
      store<u8>(q, 0x22);
      formatTimestamp(q + 1, unchecked(this.ts[i]), i);
      store<u8>(q + 25, 0x22);
      return q + 26;
    }
    // strings, enums, numbers, booleans: the validated literal as it came (same value once parsed)
    // (the member's value span ends right after the closing quote)
    const n = <i32>(unchecked(this.ve[i]) - p);
    copyBytes(q, p, n);
    return q + <usize>n;
  }
}
