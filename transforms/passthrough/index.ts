// Passes every record through unchanged to the default output topic: the smallest useful transform,
// and the host's first test module. It writes back the exact payload bytes it read (docs/abi.md §5).
import { OnRecordWrittenEvent, onRecordWritten, RecordWriter } from '../sdk';

onRecordWritten((event: OnRecordWrittenEvent, writer: RecordWriter): void => {
  writer.writePayload(event.payload.ptr, event.payload.len);
});
