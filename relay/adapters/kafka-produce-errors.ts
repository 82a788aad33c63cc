// Classifies what a @platformatic/kafka producer throws into a DLQ failure reason and whether trying
// the same record again can ever help. Permanent: the record (too large, invalid), the topic
// (invalid name) or the principal (authorization, authentication) is wrong, and stays wrong until
// someone changes something. Everything else (network, timeouts, leader moves, unknown protocol
// codes) is retryable: dropping a dead letter would lose the record, waiting only delays it.
import { GenericError } from '@platformatic/kafka';
import type { DlqFailureReason } from '../core/dlq-write.ts';

const PERMANENT_API_ERRORS: Readonly<Record<string, DlqFailureReason>> = {
  MESSAGE_TOO_LARGE: 'too-large',
  RECORD_LIST_TOO_LARGE: 'too-large',
  TOPIC_AUTHORIZATION_FAILED: 'authorization',
  CLUSTER_AUTHORIZATION_FAILED: 'authorization',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'authorization',
  SASL_AUTHENTICATION_FAILED: 'authorization',
  INVALID_RECORD: 'invalid-record',
  INVALID_TIMESTAMP: 'invalid-record',
  INVALID_REQUIRED_ACKS: 'invalid-record',
  POLICY_VIOLATION: 'invalid-record',
  INVALID_TOPIC_EXCEPTION: 'invalid-topic',
  UNSUPPORTED_VERSION: 'unsupported',
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 'unsupported',
  UNSUPPORTED_COMPRESSION_TYPE: 'unsupported',
};

const PERMANENT_CLIENT_ERRORS: Readonly<Record<string, DlqFailureReason>> = {
  PLT_KFK_AUTHENTICATION: 'authorization',
  PLT_KFK_USER: 'invalid-record',
  PLT_KFK_UNSUPPORTED: 'unsupported',
  PLT_KFK_UNSUPPORTED_API: 'unsupported',
  PLT_KFK_UNSUPPORTED_COMPRESSION: 'unsupported',
  PLT_KFK_UNSUPPORTED_FORMAT: 'unsupported',
};

export interface ProduceFailure {
  readonly reason: DlqFailureReason;
  readonly permanent: boolean;
}

/** Every error in the tree: aggregated errors and causes, depth-first, bounded. */
function* errorTree(root: unknown): Generator<Record<string, unknown>> {
  const stack: unknown[] = [root];
  for (let seen = 0; stack.length > 0 && seen < 64; seen++) {
    const e = stack.pop();
    if (typeof e !== 'object' || e === null) continue;
    const rec = e as Record<string, unknown>;
    yield rec;
    if (Array.isArray(rec.errors)) stack.push(...rec.errors);
    if (rec.cause !== undefined) stack.push(rec.cause);
  }
}

export function classifyProduceError(err: unknown): ProduceFailure {
  let retryable: DlqFailureReason | undefined;
  for (const e of errorTree(err)) {
    const apiId = typeof e.apiId === 'string' ? e.apiId : undefined;
    if (apiId !== undefined) {
      const permanent = PERMANENT_API_ERRORS[apiId];
      if (permanent) return { reason: permanent, permanent: true };
      retryable ??= 'broker';
    }
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code !== undefined) {
      const permanent = PERMANENT_CLIENT_ERRORS[code];
      if (permanent) return { reason: permanent, permanent: true };
      if (code === 'PLT_KFK_TIMEOUT') retryable ??= 'timeout';
      else if (code === 'PLT_KFK_NETWORK') retryable ??= 'network';
    }
  }
  if (retryable === undefined && err instanceof Error && GenericError.isGenericError(err))
    retryable = 'broker';
  return { reason: retryable ?? 'unknown', permanent: false };
}
