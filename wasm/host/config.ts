// Checks the host options the way the broker checks a deploy (docs/abi.md §9) and builds the environment the
// guest sees (§8): REDPANDA_INPUT_TOPIC, REDPANDA_OUTPUT_TOPIC_<i> in declared order, then user variables.
import { FerryWasmError } from './errors.ts';

const encoder = new TextEncoder();
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuse(message: string): never {
  throw new FerryWasmError({ code: 'FERRY_WASM_CONFIG', message, retryable: false });
}

export function buildEnviron(
  inputTopic: string,
  outputTopics: string[],
  env: Record<string, string>,
): string[] {
  if (outputTopics.length < 1 || outputTopics.length > 8) refuse('a transform needs 1 to 8 output topics');
  if (new Set(outputTopics).size !== outputTopics.length) refuse('output topics must be distinct');
  if (outputTopics.includes(inputTopic)) refuse('the input topic cannot also be an output topic');
  const entries = Object.entries(env);
  if (entries.length > 128) refuse('at most 128 environment variables');
  for (const [key, value] of entries) {
    const k = encoder.encode(key).length;
    if (k === 0 || k > 128) refuse(`environment key "${key}" must be 1 to 128 bytes`);
    if (key.includes('=') || CONTROL.test(key))
      refuse(`environment key "${key}" has '=' or control characters`);
    if (key.startsWith('REDPANDA_')) refuse(`environment key "${key}" uses the reserved REDPANDA_ prefix`);
    const v = encoder.encode(value).length;
    if (v === 0 || v > 2048) refuse(`environment value of "${key}" must be 1 to 2048 bytes`);
  }
  return [
    `REDPANDA_INPUT_TOPIC=${inputTopic}`,
    ...outputTopics.map((t, i) => `REDPANDA_OUTPUT_TOPIC_${i}=${t}`),
    ...entries.map(([k, v]) => `${k}=${v}`),
  ];
}
