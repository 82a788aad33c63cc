// Guest logs as the broker's log manager takes them (docs/abi.md §8): one event per fd_write, the whole
// message cut at the limit, messages with invalid UTF-8 or control characters (other than newline and
// tab) dropped rather than forwarded with replacement characters. Through the probe guest, whose
// `logbytes <hex>` writes raw bytes to fd 1 and `logiov` one fd_write of two buffers to fd 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startProbe } from '../../test/support/probe-host.ts';
import { guestLogMessage } from './guest-log.ts';
import type { LogLevel, TransformHost } from './types.ts';

const hex = (bytes: number[] | string) =>
  Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes) : Uint8Array.from(bytes)).toString('hex');

describe('guestLogMessage', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  it('keeps valid UTF-8 with newlines and tabs, as written', () => {
    expect(guestLogMessage(bytes('a\tb\nc ü ✓\n'), 1024)).toBe('a\tb\nc ü ✓\n');
  });
  it('cuts the whole message at the limit, in bytes', () => {
    expect(guestLogMessage(bytes('line one\nline two\n'), 12)).toBe('line one\nlin');
  });
  it('drops invalid UTF-8, control characters and DEL, and a cut through a character', () => {
    expect(guestLogMessage(Uint8Array.from([0x61, 0xff]), 1024)).toBeNull();
    expect(guestLogMessage(bytes('\u001b[31mred'), 1024)).toBeNull();
    expect(guestLogMessage(bytes('a\rb'), 1024)).toBeNull();
    expect(guestLogMessage(bytes('a\u007fb'), 1024)).toBeNull();
    expect(guestLogMessage(bytes('aaé'), 3)).toBeNull(); // é is 2 bytes: the cut leaves half of it
    expect(guestLogMessage(bytes('aaé'), 4)).toBe('aaé');
  });
  it('checks only what is left after the cut', () => {
    expect(guestLogMessage(Uint8Array.from([0x61, 0x62, 0x00]), 2)).toBe('ab');
  });
});

describe('fd_write in the host, with a 16-byte limit', () => {
  let host: TransformHost;
  const logs: Array<[LogLevel, string]> = [];
  beforeAll(async () => {
    host = await startProbe({ name: 'probe-logs', logLineMaxBytes: 16, onLog: (l, m) => logs.push([l, m]) });
  }, 120_000);
  afterAll(async () => {
    await host.close();
  });

  it('one event per fd_write: two buffers and two newlines make one message, cut as a whole', async () => {
    logs.length = 0;
    expect(await run(host, ['logiov'])).toEqual(['0 18']);
    expect(logs).toEqual([['warn', 'line one\nline tw']]);
  });

  it('forwards newlines and tabs; drops invalid UTF-8 and control characters, the guest still told SUCCESS', async () => {
    logs.length = 0;
    const answers = await run(host, [
      `logbytes ${hex('ok\ttab\n')}`,
      `logbytes ${hex([0x62, 0x61, 0x64, 0x20, 0xff])}`,
      `logbytes ${hex('esc \u001b[31m')}`,
      `logbytes ${hex('del \u007f')}`,
      `logbytes ${hex(`${'a'.repeat(15)}é`)}`,
      `logbytes ${hex(`${'a'.repeat(14)}é`)}`,
    ]);
    expect(answers).toEqual(['0 7', '0 5', '0 9', '0 5', '0 17', '0 16']);
    expect(logs).toEqual([
      ['info', 'ok\ttab\n'],
      ['info', `${'a'.repeat(14)}é`],
    ]);
  });
});
