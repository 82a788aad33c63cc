import { describe, expect, it } from 'vitest';
import { createRedactor } from './core/redact.ts';
import { createJsonLogger, MAX_LOG_FIELD_CHARS } from './logging.ts';

const capture = (redact = createRedactor()) => {
  const lines: string[] = [];
  const logger = createJsonLogger({ redact, write: (line) => lines.push(line) });
  return { logger, lines };
};

describe('createJsonLogger', () => {
  it('bounds every field: a 100 KB event id becomes a prefix plus its length and fingerprint', () => {
    const { logger, lines } = capture();
    const eventId = `run-${'x'.repeat(100 * 1024)}`;
    logger.warn('record dead-lettered', { eventId, nested: { again: eventId }, list: [eventId] });
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line.length).toBeLessThan(4 * MAX_LOG_FIELD_CHARS + 400);
    const parsed = JSON.parse(line) as { eventId: string; nested: { again: string }; list: string[] };
    expect(parsed.eventId).toContain(`[${eventId.length} chars, fnv1a `);
    expect(parsed.eventId.startsWith('run-xxx')).toBe(true);
    expect(parsed.nested.again).toBe(parsed.eventId);
  });

  it('scrubs configured secrets and credentials from the message and every field', () => {
    const secret = 'admin-token-5c1e9d7a';
    const { logger, lines } = capture(createRedactor({ secrets: [secret] }));
    logger.error(`login failed for ${secret}`, {
      error: 'sink said {"authorization":"Bearer zz.yy.xx"}',
      deep: [{ url: 'redis://:pw123456@h:1' }],
    });
    const line = lines[0] as string;
    for (const s of [secret, 'zz.yy.xx', 'pw123456']) expect(line).not.toContain(s);
    expect(JSON.parse(line).level).toBe('error');
  });

  it('caps long arrays, writes bigints and survives a cycle', () => {
    const { logger, lines } = capture();
    logger.info('partitions assigned', { partitions: Array.from({ length: 500 }, (_, i) => `t/${i}`) });
    expect((JSON.parse(lines[0] as string) as { partitions: string[] }).partitions).toHaveLength(51);
    logger.info('offset', { offset: 12n });
    expect(JSON.parse(lines[1] as string).offset).toBe('12');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    logger.warn('cycle', { cyclic });
    expect(JSON.parse(lines[2] as string).message).toBe('cycle');
  });
});
