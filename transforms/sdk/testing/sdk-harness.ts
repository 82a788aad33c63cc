// A test module (not a transform): the SDK's loop on the in-memory stub ABI, driven from vitest
// (test/unit/transforms-sdk.test.ts). The test copies payloads in through `scratch`, runs batches, and reads
// the outputs back. The transform under test exercises the record model, json(), headers, write
// options and pass-through.
import '../abort'; // the preset's --use abort=sdk/abort/wasiAbort needs it in the program
import { getEnv } from '../env';
import { JsonValue } from '../json_value';
import { WriteOptions } from '../options';
import { OnRecordWrittenEvent, Record, RecordData, RecordHeader } from '../record';
import { stubAbi, stubOutputs, stubPushBatch } from '../stub_abi';
import { TransformLoop } from '../transform';
import { RecordWriter } from '../writer';

const other = new WriteOptions('other-topic');
let pending: ArrayBuffer[] = [];
const scratchBuf = new ArrayBuffer(1 << 20);

function handle(event: OnRecordWrittenEvent, writer: RecordWriter): void {
  const rec = event.record;
  const route = rec.header('route');
  const value = rec.value;
  if (value === null) {
    writer.writePayload(event.payload.ptr, event.payload.len); // tombstones pass through unchanged
    return;
  }
  const parsed = value.json();
  const out = new Record();
  out.key = rec.key;
  if (
    parsed.ok &&
    parsed.value!.isObject() &&
    parsed.value!.get('n') !== null &&
    parsed.value!.get('n')!.isNumber()
  ) {
    out.value = RecordData.fromString('{"double":' + (parsed.value!.get('n')!.num * 2).toString() + '}');
  } else if (!parsed.ok) {
    out.value = RecordData.fromString('not json: ' + parsed.error.toString());
  } else {
    out.value = RecordData.fromString(value.text().toUpperCase());
  }
  out.headers = [RecordHeader.of('seen-headers', rec.headers.length.toString())];
  const env = getEnv('HARNESS_TAG');
  if (env !== null) out.headers.push(RecordHeader.of('tag', env));
  writer.write(out, route !== null ? other : null);
}

const loop = new TransformLoop(stubAbi(), handle);

/** Where the test writes a payload before calling addRecord(len). */
export function scratch(): usize {
  return changetype<usize>(scratchBuf);
}

export function addRecord(len: i32): void {
  const b = new ArrayBuffer(len);
  memory.copy(changetype<usize>(b), changetype<usize>(scratchBuf), <usize>len);
  pending.push(b);
}

export function endBatch(): void {
  stubPushBatch(pending);
  pending = [];
}

/** Runs every queued batch; returns how many outputs exist in total. */
export function run(): i32 {
  loop.run();
  return stubOutputs.length;
}

export function outputPtr(i: i32): usize {
  return changetype<usize>(stubOutputs[i].payload);
}
export function outputLen(i: i32): i32 {
  return stubOutputs[i].payload.byteLength;
}
export function optionsPtr(i: i32): usize {
  return changetype<usize>(stubOutputs[i].options);
}
export function optionsLen(i: i32): i32 {
  return stubOutputs[i].options.byteLength;
}
export function malformed(): i32 {
  return <i32>loop.malformed;
}

// Keep the JSON tree type in the module for the `n` lookup above.
export function jsonKind(): i32 {
  return new JsonValue().kind;
}
