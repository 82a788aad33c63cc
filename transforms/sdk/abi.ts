// The broker's side of the ABI as an Abi table, over the imports in redpanda_transform.ts.
import { Abi } from './abi_types';
import {
  check_abi_version_2,
  read_batch_header,
  read_next_record,
  write_record,
  write_record_with_options,
} from './redpanda_transform';

function brokerCheckAbi(): void {
  check_abi_version_2();
}

function brokerReadBatchHeader(out: usize): i32 {
  // Out-params live in one scratch block; abi_types.ts names the offsets the SDK reads.
  return read_batch_header(
    out,
    out + 8,
    out + 12,
    out + 16,
    out + 20,
    out + 24,
    out + 32,
    out + 40,
    out + 48,
    out + 52,
  );
}

function brokerReadNextRecord(out: usize, buf: usize, len: u32): i32 {
  return read_next_record(out, out + 8, out + 16, buf, len);
}

function brokerWriteRecord(buf: usize, len: u32, opts: usize, optsLen: u32): i32 {
  if (optsLen == 0) return write_record(buf, len);
  return write_record_with_options(buf, len, opts, optsLen);
}

export function brokerAbi(): Abi {
  return new Abi(brokerCheckAbi, brokerReadBatchHeader, brokerReadNextRecord, brokerWriteRecord);
}
