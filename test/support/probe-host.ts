// Helpers for host tests that drive the probe guest: commands in, text answers out.
import { createTransformHost } from '../../wasm/host/host.ts';
import type { HostRecord, TransformHost, TransformHostOptions } from '../../wasm/host/types.ts';
import { probeModule } from './probe-module.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const BASE_TS = 1_700_000_000_000;

export async function startProbe(options: Partial<TransformHostOptions> = {}): Promise<TransformHost> {
  return createTransformHost({
    module: await probeModule(),
    name: 'probe',
    inputTopic: 'cdc.in',
    outputTopics: ['clean.out', 'dlq.transform'],
    onLog: () => {},
    backoff: { initialMs: 20, maxMs: 200, resetAfterMs: 10_000 },
    ...options,
  });
}

export function commandRecords(commands: string[], baseOffset = 0n): HostRecord[] {
  return commands.map((c, i) => ({
    key: null,
    value: encoder.encode(c),
    headers: [],
    offset: baseOffset + BigInt(i),
    timestamp: BASE_TS + i,
  }));
}

/** Runs one batch of commands; returns "topic: text" for every output. */
export async function run(host: TransformHost, commands: string[], baseOffset = 0n): Promise<string[]> {
  const { outputs } = await host.process({ baseOffset, records: commandRecords(commands, baseOffset) });
  return outputs.map(
    (o) => (o.topic === 'clean.out' ? '' : `${o.topic}: `) + decoder.decode(o.value ?? new Uint8Array()),
  );
}

export function hex(bytes: Uint8Array | number[]): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
