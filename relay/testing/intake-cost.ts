// Intake cost per record, same process, interleaved rounds: the old path (fatal UTF-8 decode +
// JSON.parse + commitTimestampOf) against the byte scan (json-scan.ts) on the benchmark's ~1 KB values.
// Not a test; prints CPU µs per record (GC included, as process.cpuUsage sees it).
// Usage: node relay/testing/intake-cost.ts [records per round] [rounds]
import type { SourceRecord } from '../core/contracts.ts';
import { createJsonScanner } from '../core/json-scan.ts';
import { commitTimestampOf, parseValue } from '../core/record.ts';

const n = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 5);
const enc = new TextEncoder();
const records: SourceRecord[] = Array.from({ length: 1000 }, (_, i) => {
  const head = JSON.stringify({ key: `k${i}`, seq: i, i, run: 'bench-1', producedAt: Date.now() });
  const value = `${head.slice(0, -1)},"pad":"${'x'.repeat(1000 - head.length - 10)}"}`;
  return {
    topic: 't',
    partition: 0,
    offset: BigInt(i),
    key: null,
    value: enc.encode(value),
    headers: [],
    timestamp: i,
  };
});
const scanner = createJsonScanner();
let sink = 0;
const paths: Record<string, (r: SourceRecord) => void> = {
  parse(r) {
    const p = parseValue(r);
    if (p.ok) sink += commitTimestampOf(p.value, r);
  },
  scan(r) {
    if (scanner.scan(r.value as Uint8Array)) sink += scanner.commitTimestamp(r.value as Uint8Array, r) ?? 0;
  },
};
const cpu = (fn: (r: SourceRecord) => void) => {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(records[i % records.length] as SourceRecord);
  const d = process.cpuUsage(t);
  return (d.user + d.system) / n;
};
for (const fn of Object.values(paths)) cpu(fn); // warm up
const totals: Record<string, number[]> = { parse: [], scan: [] };
for (let r = 0; r < rounds; r++) for (const [name, fn] of Object.entries(paths)) totals[name]?.push(cpu(fn));
for (const [name, us] of Object.entries(totals))
  console.log(`${name}: ${us.map((u) => u.toFixed(2)).join(' ')} µs CPU/record`);
console.log(`(checksum ${sink})`);
