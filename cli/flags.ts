// Flag parsers and old-name aliases shared by the commands, so that every duration takes a unit
// (`500ms`, `5s`, `2m`) and a renamed flag keeps working under its old name for one release.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../relay/config/duration.ts';

type Unit = 'ms' | 's';

/**
 * A duration flag in milliseconds: `500ms`, `5s`, `2m`, `1h`. A bare number is read in `bareUnit`, the
 * unit the flag had before it took units, so old command lines keep their meaning.
 */
export function durationFlag(bareUnit: Unit, { min = 1 }: { min?: number } = {}) {
  return (value: string): number => {
    const text = value.trim();
    const bare = /^\d+(?:\.\d+)?$/.test(text);
    const ms = parseDuration(bare ? `${text}${bareUnit}` : text);
    if (ms === undefined || !/^\d/.test(text))
      throw new InvalidArgumentError('a duration like 500ms, 5s, 2m or 1h');
    if (ms < min) throw new InvalidArgumentError(`at least ${min} ms`);
    return ms;
  };
}

/** `1500` → `1.5s`, `120000` → `2m`: how durations are shown in help defaults. */
export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 || ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Accepts `--<old>` as a hidden spelling of an option already declared on `cmd` under `newAttribute`
 * (camelCase, as commander names it). The new name wins when both are given.
 */
export function aliasFlag(
  cmd: Command,
  oldFlags: string,
  newAttribute: string,
  parse?: (value: string, previous: unknown) => unknown,
): Command {
  const old = new Option(oldFlags).hideHelp();
  cmd.addOption(old);
  let viaAlias = false;
  cmd.on(`option:${old.name()}`, (value: string) => {
    // The new name was given on the line: it wins.
    if (cmd.getOptionValueSource(newAttribute) === 'cli' && !viaAlias) return;
    const previous = viaAlias ? cmd.getOptionValue(newAttribute) : undefined;
    cmd.setOptionValueWithSource(newAttribute, parse ? parse(value, previous) : value, 'cli');
    viaAlias = true;
  });
  return cmd;
}

/** A TCP port, 0..65535 (0 = any free port). */
export function portFlag(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65_535) throw new InvalidArgumentError('a port number, 0..65535');
  return n;
}
