import { describe, expect, it } from 'vitest';
import { pushUrl } from './commands/push.ts';

describe('ferry push --url', () => {
  it("takes the relay's base URL or its /push/batches URL, and only http(s)", () => {
    expect(pushUrl('https://edge.example.workers.dev')).toBe('https://edge.example.workers.dev/push/batches');
    expect(pushUrl('http://127.0.0.1:8787/')).toBe('http://127.0.0.1:8787/push/batches');
    expect(pushUrl('https://example.com/ferry/')).toBe('https://example.com/ferry/push/batches');
    expect(pushUrl('https://example.com/ferry/push/batches')).toBe('https://example.com/ferry/push/batches');
    expect(pushUrl('ftp://example.com')).toBeUndefined();
    expect(pushUrl('not a url')).toBeUndefined();
    expect(pushUrl('')).toBeUndefined();
  });
});
