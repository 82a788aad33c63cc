// The push forwarder: a long-lived source's records pushed in signed batches to an edge relay.

export { createForwarder, type Forwarder, type ForwarderOptions, type ForwarderStats } from './forwarder.ts';
export { progressLine } from './progress.ts';
export { classifyPushAnswer, type PushAnswer } from './push-answer.ts';
export {
  type EncodedPushRecord,
  encodePushBatch,
  encodePushRecord,
  joinPushBatch,
  type PushBatch,
} from './push-batch.ts';
export { createPushClient, type PushClient, type PushClientOptions } from './push-client.ts';
