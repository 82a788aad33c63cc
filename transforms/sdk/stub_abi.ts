// An in-memory stand-in for the broker's side of the ABI (the same table as abi.ts), so the SDK's
// loop, payload codec, writer and options run without a broker or a host: tests queue batches of
// payloads, run the loop, and read back what the transform wrote. Module-level state, because
// AssemblyScript function references cannot capture; one stub per module instance.
import {
  Abi,
  BATCH_BASE_OFFSET,
  BATCH_RECORD_COUNT,
  INVALID_BUFFER,
  NO_ACTIVE_TRANSFORM,
  RECORD_OFFSET,
  RECORD_TIMESTAMP,
} from './abi_types';

/** One written record: its payload and its encoded options (empty = default topic). */
export class StubOutput {
  payload: ArrayBuffer;
  options: ArrayBuffer;

  constructor(payload: ArrayBuffer, options: ArrayBuffer) {
    this.payload = payload;
    this.options = options;
  }
}

const batches: ArrayBuffer[][] = [];
let current: ArrayBuffer[] = [];
let next = 0;
let offset: i64 = 0;
export const stubOutputs: StubOutput[] = [];

/** Queues a batch of payloads (each already encoded as in docs/abi.md §5). */
export function stubPushBatch(payloads: ArrayBuffer[]): void {
  batches.push(payloads);
}

function copy(ptr: usize, len: u32): ArrayBuffer {
  const b = new ArrayBuffer(<i32>len);
  memory.copy(changetype<usize>(b), ptr, <usize>len);
  return b;
}

function stubCheckAbi(): void {}

function stubReadBatchHeader(out: usize): i32 {
  if (batches.length == 0) return NO_ACTIVE_TRANSFORM; // the stub's "no more input"
  current = batches.shift();
  next = 0;
  store<i64>(out + BATCH_BASE_OFFSET, offset);
  store<i32>(out + BATCH_RECORD_COUNT, current.length);
  let max = 0;
  for (let i = 0; i < current.length; i++) max = <i32>Math.max(max, current[i].byteLength);
  return max;
}

function stubReadNextRecord(out: usize, buf: usize, len: u32): i32 {
  if (next >= current.length) return NO_ACTIVE_TRANSFORM;
  const p = current[next];
  if (<u32>p.byteLength > len) return INVALID_BUFFER; // not consumed: the SDK grows its buffer and retries
  next++;
  memory.copy(buf, changetype<usize>(p), <usize>p.byteLength);
  store<i64>(out + RECORD_TIMESTAMP, 1700000000000 + offset);
  store<i64>(out + RECORD_OFFSET, offset++);
  return p.byteLength;
}

function stubWriteRecord(buf: usize, len: u32, opts: usize, optsLen: u32): i32 {
  stubOutputs.push(new StubOutput(copy(buf, len), copy(opts, optsLen)));
  return <i32>len;
}

export function stubAbi(): Abi {
  return new Abi(stubCheckAbi, stubReadBatchHeader, stubReadNextRecord, stubWriteRecord);
}
