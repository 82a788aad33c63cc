import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { aliasFlag, durationFlag, formatDuration, portFlag } from './flags.ts';

describe('durationFlag', () => {
  it('takes units and reads a bare number in the old unit', () => {
    const seconds = durationFlag('s');
    expect(seconds('500ms')).toBe(500);
    expect(seconds('2m')).toBe(120_000);
    expect(seconds('3')).toBe(3000);
    expect(durationFlag('ms')('3')).toBe(3);
    expect(durationFlag('ms')('1.5s')).toBe(1500);
  });

  it('refuses what is not a duration, and values under the minimum', () => {
    expect(() => durationFlag('s')('5x')).toThrow(/duration like/);
    expect(() => durationFlag('s')('-1s')).toThrow(/duration like/);
    expect(() => durationFlag('s')('')).toThrow(/duration like/);
    expect(() => durationFlag('ms', { min: 100 })('50ms')).toThrow(/at least 100 ms/);
  });

  it('formats defaults for help text', () => {
    expect(formatDuration(1000)).toBe('1s');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(250)).toBe('250ms');
  });
});

describe('portFlag', () => {
  it('takes 0..65535 only', () => {
    expect(portFlag('0')).toBe(0);
    expect(portFlag('18080')).toBe(18080);
    for (const bad of ['abc', '65536', '-1', '1.5']) expect(() => portFlag(bad)).toThrow(/port number/);
  });
});

describe('aliasFlag', () => {
  const parse = (argv: string[]) => {
    const cmd = new Command('x').exitOverride().option('--input-topic <t>').option('--output-topic <t...>');
    aliasFlag(cmd, '--input <t>', 'inputTopic');
    aliasFlag(cmd, '--output <t...>', 'outputTopic', (v, prev) => [
      ...((prev as string[] | undefined) ?? []),
      v,
    ]);
    cmd.parse(argv, { from: 'user' });
    return cmd.opts();
  };

  it('fills the new option from the old name', () => {
    expect(parse(['--input', 'a', '--output', 'b', 'c'])).toMatchObject({
      inputTopic: 'a',
      outputTopic: ['b', 'c'],
    });
  });

  it('lets the new name win when both are given', () => {
    expect(parse(['--input-topic', 'new', '--input', 'old'])).toMatchObject({ inputTopic: 'new' });
  });

  it('hides the old name from help', () => {
    const cmd = new Command('x').option('--input-topic <t>');
    aliasFlag(cmd, '--input <t>', 'inputTopic');
    expect(cmd.helpInformation()).not.toContain('--input <t>');
    expect(cmd.helpInformation()).toContain('--input-topic');
  });
});
