// What every relay integration test file sets up and tears down: a producer of numbered records, the
// topics its tests create and the mock APIs they start, all released after the file's tests
// (producer, then the APIs, then the topics with their consumer groups). Call it at the top of the
// file or inside a describe: it registers that scope's beforeAll/afterAll hooks.
import { afterAll, beforeAll } from 'vitest';
import { type MockApi, type MockApiOptions, startMockApi } from './mock-api/index.ts';
import { createTopic, createTopicProducer, deleteTopics, type TopicProducer } from './relay-kafka.ts';

export interface RelayTestbed {
  readonly producer: TopicProducer;
  /** The mock API started before the tests (only with `useRelayTestbed({ api: options })`). */
  readonly api: MockApi;
  /** A fresh topic (`<prefix>-<random>`), deleted with its consumer groups after the tests. */
  topic(prefix: string, partitions: number): Promise<string>;
  /** A mock API started now, stopped after the tests. */
  startApi(options: MockApiOptions): Promise<MockApi>;
}

export function useRelayTestbed({ api: apiOptions }: { api?: MockApiOptions } = {}): RelayTestbed {
  const producer = createTopicProducer();
  const topics: string[] = [];
  const apis: MockApi[] = [];
  let shared: MockApi | undefined;
  const startApi = async (options: MockApiOptions) => {
    const api = await startMockApi(options);
    apis.push(api);
    return api;
  };
  if (apiOptions !== undefined) {
    beforeAll(async () => {
      shared = await startApi(apiOptions);
    });
  }
  afterAll(async () => {
    await producer.close();
    for (const api of apis) await api.stop();
    await deleteTopics(...topics);
  });
  return {
    producer,
    get api(): MockApi {
      if (shared === undefined) throw new Error('useRelayTestbed: no mock API (pass { api: options })');
      return shared;
    },
    async topic(prefix, partitions) {
      const name = await createTopic(prefix, partitions);
      topics.push(name);
      return name;
    },
    startApi,
  };
}

/** Event ids `<run>-0` … `<run>-<count - 1>` (the numbered records' ids) that the endpoint never applied. */
export function notApplied(api: MockApi, endpoint: string, run: string, count: number): string[] {
  const applied = new Set(api.ledger(endpoint).appliedKeys);
  return Array.from({ length: count }, (_, i) => `${run}-${i}`).filter((id) => !applied.has(id));
}
