// One Wasm contract: `ferry transform check` (wasm/build/check.ts) and the host's linker
// (wasm/host/prepare.ts) read a module with the same reader and judge its imports by the same table
// (wasm/module/), so a module links in the host exactly when it passes the check. Checked on real
// modules: the test guests of test/support/guests and a transform of the repository.
import { describe, expect, it } from 'vitest';
import { checkModule } from '../../wasm/build/index.ts';
import { createTransformHost, isFerryWasmError } from '../../wasm/host/index.ts';
import { linkProblems, readModuleInfo } from '../../wasm/index.ts';
import { guestModule } from '../support/probe-module.ts';
import { transformModule } from '../support/transforms.ts';

/** 'linked' when the host starts an instance of the module, else the host's FERRY_WASM_LINK message. */
async function hostVerdict(module: Uint8Array): Promise<string> {
  try {
    const host = await createTransformHost({
      module,
      inputTopic: 'in',
      outputTopics: ['out'],
      onLog: () => {},
    });
    await host.close();
    return 'linked';
  } catch (error) {
    if (isFerryWasmError(error) && error.code === 'FERRY_WASM_LINK') return error.message;
    throw error;
  }
}

const modules: Array<[string, () => Promise<Uint8Array>, boolean]> = [
  ['the probe guest', () => guestModule('probe'), true],
  ['the passthrough transform', () => transformModule('passthrough'), true],
  ['a guest importing fd_write with the wrong signature', () => guestModule('bad-wasi-signature'), false],
  ['the probe built with asc default env.abort', () => guestModule('probe', { abortOverride: false }), false],
];

describe('ferry transform check and the host linker agree', () => {
  for (const [what, load, links] of modules) {
    it(`${what}: ${links ? 'passes the check and links' : 'is refused by both, for the same reason'}`, async () => {
      const bytes = await load();
      const checked = checkModule(bytes);
      const host = await hostVerdict(bytes);
      expect(checked.ok).toBe(links);
      expect(host === 'linked').toBe(links);
      const problems = linkProblems(readModuleInfo(bytes));
      expect(problems.length === 0).toBe(links);
      if (!checked.ok) {
        // Every link problem is in the check's reasons and in the host's refusal, word for word.
        for (const p of problems) {
          expect(checked.reasons).toContain(p);
          expect(host).toContain(p);
        }
      }
    }, 120_000);
  }

  it('a WASI import with the wrong signature is refused by the check (it used to check WASI names only)', async () => {
    const checked = checkModule(await guestModule('bad-wasi-signature'));
    expect(checked.ok).toBe(false);
    expect(checked.ok ? [] : checked.reasons).toEqual([
      'import wasi_snapshot_preview1.fd_write: has signature (i32, i32, i32) -> (i32), the broker defines (i32, i32, i32, i32) -> (i32)',
    ]);
  }, 120_000);
});
