import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
  UserError,
} from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { classifyProduceError } from './kafka-produce-errors.ts';

/** What Producer.send rejects with when a broker answers a produce request with this error code. */
const produceFailure = (code: number) =>
  new MultipleErrors('Producing messages failed.', [
    new ResponseError(0, 11, { '/responses/0/partition_responses/0': [code, null] }, {}),
  ]);

describe('classifyProduceError', () => {
  it.each([
    [10, 'too-large'], // MESSAGE_TOO_LARGE
    [18, 'too-large'], // RECORD_LIST_TOO_LARGE
    [29, 'authorization'], // TOPIC_AUTHORIZATION_FAILED
    [31, 'authorization'], // CLUSTER_AUTHORIZATION_FAILED
    [87, 'invalid-record'], // INVALID_RECORD
    [17, 'invalid-topic'], // INVALID_TOPIC_EXCEPTION
    [44, 'invalid-record'], // POLICY_VIOLATION
  ])('broker code %i is permanent (%s)', (code, reason) => {
    expect(classifyProduceError(produceFailure(code))).toEqual({ reason, permanent: true });
  });

  it.each([
    [6, 'broker'], // NOT_LEADER_OR_FOLLOWER
    [3, 'broker'], // UNKNOWN_TOPIC_OR_PARTITION (may be created)
    [7, 'broker'], // REQUEST_TIMED_OUT
    [19, 'broker'], // NOT_ENOUGH_REPLICAS
  ])('broker code %i is retryable (%s)', (code, reason) => {
    expect(classifyProduceError(produceFailure(code))).toEqual({ reason, permanent: false });
  });

  it('client-side errors', () => {
    expect(classifyProduceError(new AuthenticationError('bad SASL'))).toEqual({
      reason: 'authorization',
      permanent: true,
    });
    expect(classifyProduceError(new UserError('Failed to serialize a message.'))).toEqual({
      reason: 'invalid-record',
      permanent: true,
    });
    expect(classifyProduceError(new NetworkError('socket closed'))).toEqual({
      reason: 'network',
      permanent: false,
    });
    expect(classifyProduceError(new TimeoutError('timed out')).permanent).toBe(false);
    expect(classifyProduceError(new ProtocolError('MESSAGE_TOO_LARGE'))).toEqual({
      reason: 'too-large',
      permanent: true,
    });
    expect(classifyProduceError(new Error('something else'))).toEqual({
      reason: 'unknown',
      permanent: false,
    });
    expect(classifyProduceError('not even an error')).toEqual({ reason: 'unknown', permanent: false });
  });
});
