// Ferry's AssemblyScript SDK for Redpanda data transforms (ABI v2). The API mirrors Redpanda's JS
// SDK: onRecordWritten((event, writer) => ...), RecordData with text(), array(), json(), headers,
// writer.write(record, options) with a topic option for routing to another output topic.
import './abort'; // keeps wasiAbort in the program for `--use abort=sdk/abort/wasiAbort`
import { brokerAbi } from './abi';
import { OnRecordWrittenCallback, TransformLoop } from './transform';
import { log } from './wasi';

export { Abi } from './abi_types';
export { ByteBuilder } from './builder';
export { getEnv, inputTopic, outputTopic } from './env';
export * from './json';
export { JsonResult, JsonValue, parseJson } from './json_value';
export { WriteOptions } from './options';
export { OnRecordWrittenEvent, Record, RecordData, RecordHeader, WrittenRecord } from './record';
export { OnRecordWrittenCallback, TransformLoop } from './transform';
export { log } from './wasi';
export { RecordWriter } from './writer';

let activeLoop: TransformLoop | null = null;

/**
 * Registers the transform and runs the record loop forever (call it once, at the top level of the
 * transform's entry file; `_start` runs it). It returns only if the broker reports a fatal state.
 */
export function onRecordWritten(callback: OnRecordWrittenCallback): void {
  // Held in a global: the minimal runtime's collector only sees what globals reach (transform.ts).
  const loop = new TransformLoop(brokerAbi(), callback);
  activeLoop = loop;
  loop.run();
  log(2, 'ferry sdk: read_batch_header reported no batch; stopping');
}
