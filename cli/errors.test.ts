import { describe, expect, it } from 'vitest';
import { CliError, exitCodeOf, explain, networkReason, rootMessage, verboseRequested } from './errors.ts';

const systemError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${code}: something`), { code, ...extra });

describe('explain', () => {
  it('keeps a CliError as it is, with its exit code', () => {
    const e = new CliError('topic x does not exist', 2);
    expect(explain(e)).toBe('topic x does not exist');
    expect(exitCodeOf(e)).toBe(2);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });

  it('names the file and the reason for file errors', () => {
    expect(explain(systemError('ENOENT', { path: 'missing.wasm' }))).toBe(
      'missing.wasm: no such file or directory',
    );
    expect(explain(systemError('EACCES', { path: '/root/x' }))).toBe('/root/x: permission denied');
  });

  it('finds the network reason inside fetch failed', () => {
    const fetchFailed = new TypeError('fetch failed', {
      cause: systemError('ECONNREFUSED', { address: '127.0.0.1', port: 8787 }),
    });
    expect(networkReason(fetchFailed)).toBe('connection refused (127.0.0.1:8787)');
    expect(explain(fetchFailed)).toBe('cannot connect: connection refused (127.0.0.1:8787)');
    expect(networkReason(new Error('no cause'))).toBeUndefined();
  });

  it('falls back to the innermost message, first line only', () => {
    expect(rootMessage(new TypeError('fetch failed', { cause: new Error('bad port') }))).toBe('bad port');
    expect(explain(new Error('first line\n    at stack()'))).toBe('first line');
    expect(explain('a string')).toBe('a string');
  });
});

describe('verboseRequested', () => {
  it('is on with --verbose anywhere or FERRY_VERBOSE', () => {
    expect(verboseRequested(['node', 'main', 'relay', 'status', '--verbose'], {})).toBe(true);
    expect(verboseRequested(['node', 'main'], { FERRY_VERBOSE: '1' })).toBe(true);
    expect(verboseRequested(['node', 'main'], {})).toBe(false);
  });
});
