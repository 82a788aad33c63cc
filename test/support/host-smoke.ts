// Runtime smoke test of the Wasm host, runnable unchanged by Node, Deno and Bun: a v1 pass-through guest,
// one batch, then prints one JSON line. Used by wasm/host/runtimes.test.ts.

import { createTransformHost } from '../../wasm/host/index.ts';
import { echoV1Module } from './wasm-builder.ts';

const host = await createTransformHost({
  module: echoV1Module(),
  inputTopic: 'in',
  outputTopics: ['out'],
  onLog: () => {},
});
const r = await host.process({
  baseOffset: 0n,
  records: [
    {
      key: null,
      value: new TextEncoder().encode('hi'),
      headers: [{ key: 'h', value: null }],
      offset: 0n,
      timestamp: 1,
    },
  ],
});
console.log(
  JSON.stringify({
    outputs: r.outputs.length,
    value: new TextDecoder().decode(r.outputs[0]!.value!),
    headers: r.outputs[0]!.headers.length,
  }),
);
await host.close();
