// One transform's fixture test as `ferry transform test` and a scaffolded <name>.test.ts run it:
// build (rules.ts regenerated, the broker's checks applied), then every fixture record through the
// module in the host, with a report a person can read.
import { readFile } from 'node:fs/promises';
import { type CaseResult, loadFixtures, runFixtures } from './fixtures.ts';
import { buildTransform, locateTransform, readProject, type TransformFolder } from './project.ts';

export interface TestReport {
  readonly name: string;
  readonly total: number;
  /** `<file>#<i> <name>` of each failed case. */
  readonly failures: readonly string[];
  /** The whole report: one line per case, the diff under each failure, a summary line. */
  readonly text: string;
}

export function formatResults(name: string, results: readonly CaseResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.ok ? '  ok  ' : '  FAIL'} ${r.where} ${r.name}`);
    if (!r.ok) {
      lines.push('        - expected  + actual');
      for (const d of r.diff) lines.push(`        ${d}`);
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push(
    failed === 0
      ? `${name}: ${results.length} fixture record(s), all as expected`
      : `${name}: ${failed} of ${results.length} fixture record(s) differ`,
  );
  return lines.join('\n');
}

/** Builds and tests a transform folder (a path, or a name under transforms/). */
export async function testTransform(
  target: string | TransformFolder,
  options: { onLog?: (level: string, line: string) => void } = {},
): Promise<TestReport> {
  const t = typeof target === 'string' ? await locateTransform(target) : target;
  const project = await readProject(t);
  const cases = await loadFixtures(t.dir);
  const { wasmPath } = await buildTransform(t);
  const module = new Uint8Array(await readFile(wasmPath));
  const results = await runFixtures(module, project, cases, options);
  return {
    name: t.name,
    total: results.length,
    failures: results.filter((r) => !r.ok).map((r) => `${r.where} ${r.name}`),
    text: formatResults(t.name, results),
  };
}
