// The record handler shared by the supply-chain transforms: a clean event to the default output
// (clean.<entity>), or the original record to the DLQ (output topic 1, dlq.transform) with
// ferry-error-* headers. Tombstones (null values) carry no change to validate and are dropped on
// purpose (Debezium here runs with tombstones.on.delete=false: a delete is its own "d" event).
// A clean event whose image had columns the rules do not name carries ferry-unknown-fields (their
// names, comma separated), so a column added upstream is visible instead of silently dropped.
// Nothing here can trap on bad input: every failure is a routed record.
import { ByteBuilder } from '../sdk/builder';
import { getEnv, inputTopic, outputTopic } from '../sdk/env';
import { onRecordWritten } from '../sdk/index';
import { bytesEq } from '../sdk/json';
import { WriteOptions } from '../sdk/options';
import { frameInPlace } from '../sdk/payload';
import { OnRecordWrittenEvent, Record, RecordData, RecordHeader } from '../sdk/record';
import { log } from '../sdk/wasi';
import { RecordWriter } from '../sdk/writer';
import { ChangeProcessor, VALUE_FRONT } from './engine';
import { EntitySpec } from './spec';

let processor: ChangeProcessor | null = null;
let dlq: WriteOptions | null = null;
const clean = new Record();
const cleanKey = new RecordData();
const cleanValue = new RecordData();
const eventIdHeader = new RecordHeader(RecordData.fromString('ferry-event-id'), new RecordData());
let schemaHeader: RecordHeader | null = null;
// Columns the rules do not know (a schema change upstream): named on the clean event, never a failure.
const unknownHeader = new RecordHeader(RecordData.fromString('ferry-unknown-fields'), new RecordData());
let knownHeaders: RecordHeader[] = [];
// The last list logged, and every column logged (at most MAX_LOGGED): a column is logged once, the
// first time it is seen (stderr, the broker's transform log); a record whose list equals the last
// one costs one comparison.
const lastUnknown = new ByteBuilder(64);
const loggedColumns = new Set<string>();
const MAX_LOGGED = 100;
let withUnknownHeaders: RecordHeader[] = [];
const codeHeader = new RecordHeader(RecordData.fromString('ferry-error-code'), new RecordData());
const fieldHeader = new RecordHeader(RecordData.fromString('ferry-error-field'), new RecordData());
const messageHeader = new RecordHeader(RecordData.fromString('ferry-error-message'), new RecordData());
const stageHeader = RecordHeader.of('ferry-error-stage', 'transform');
let sourceHeader: RecordHeader | null = null;
const offsetHeader = new RecordHeader(RecordData.fromString('ferry-error-source-offset'), new RecordData());
const offsetText = new ByteBuilder(24);
let writeFailures: i64 = 0;
let errorHeaders: RecordHeader[] = [];

function setText(d: RecordData | null, s: string): void {
  if (d === null) return;
  const buf = String.UTF8.encode(s);
  d.owner = buf;
  d.set(changetype<usize>(buf), buf.byteLength);
}

function handle(event: OnRecordWrittenEvent, writer: RecordWriter): void {
  const p = processor!;
  const rec = event.record;
  const value = rec.value;
  if (value === null) return; // tombstone: dropped on purpose (see above)
  if (p.run(value.ptr, value.len)) {
    clean.key = cleanKey.set(p.key.ptr, p.key.len);
    eventIdHeader.value!.set(p.eventId.ptr, p.eventId.len);
    if (p.unknown.len == 0) clean.headers = knownHeaders;
    else {
      unknownHeader.value!.set(p.unknown.ptr, p.unknown.len);
      if (p.unknown.len != lastUnknown.len || !bytesEq(p.unknown.ptr, lastUnknown.ptr, p.unknown.len))
        logNewColumns(p.unknown.ptr, p.unknown.len);
      clean.headers = withUnknownHeaders;
    }
    // The clean event was built with room before it: key and headers go around it, no copy.
    const out = p.out;
    const start = frameInPlace(out, VALUE_FRONT, clean.key, clean.headers);
    if (start != 0) {
      checkWrite(writer.writePayload(start, <i32>(out.ptr + <usize>out.len - start)));
      return;
    }
    clean.value = cleanValue.set(out.ptr + <usize>VALUE_FRONT, out.len - VALUE_FRONT);
    checkWrite(writer.write(clean));
    return;
  }
  // Dead letter: the original key, value and headers (forwarded without a copy), plus why.
  setText(codeHeader.value, p.errorCode);
  setText(fieldHeader.value, p.errorField);
  setText(messageHeader.value, p.errorMessage);
  offsetText.reset().int(rec.offset);
  offsetHeader.value!.set(offsetText.ptr, offsetText.len);
  checkWrite(writer.forward(event, errorHeaders, dlq));
}

function logNewColumns(ptr: usize, len: i32): void {
  lastUnknown.reset().bytes(ptr, len);
  if (loggedColumns.size >= MAX_LOGGED) return;
  const names = String.UTF8.decodeUnsafe(ptr, <usize>len).split(',');
  for (let i = 0; i < names.length && loggedColumns.size < MAX_LOGGED; i++) {
    const name = names[i];
    if (loggedColumns.has(name)) continue;
    loggedColumns.add(name);
    log(2, 'ferry transform: column "' + name + '" is not in the rules; named in ferry-unknown-fields');
  }
}

function checkWrite(result: i32): void {
  if (result == 0) return;
  // A refused write cannot be retried from inside the transform; trapping would restart it on the
  // same record forever (docs/abi.md §11). Log the first failures and go on.
  writeFailures++;
  if (writeFailures <= 10) log(2, 'ferry transform: write refused with ABI error ' + result.toString());
}

/** Runs the transform for one entity forever. */
export function runEntityTransform(spec: EntitySpec): void {
  processor = new ChangeProcessor(spec);
  const dlqTopic = outputTopic(1);
  dlq = new WriteOptions(dlqTopic !== null ? dlqTopic : getEnv('FERRY_DLQ_TOPIC', 'dlq.transform'));
  const schema = RecordHeader.of('ferry-schema', spec.schema);
  schemaHeader = schema;
  const input = inputTopic();
  sourceHeader = RecordHeader.of('ferry-error-source-topic', input !== null ? input : '');
  knownHeaders = [eventIdHeader, schema];
  withUnknownHeaders = [eventIdHeader, schema, unknownHeader];
  clean.headers = knownHeaders;
  errorHeaders = [stageHeader, codeHeader, fieldHeader, messageHeader, sourceHeader!, offsetHeader];
  onRecordWritten(handle);
}
