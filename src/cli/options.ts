/** What the commands share: parsed option values and their checks. */
import fs from 'node:fs';

export type CommandValues = Record<string, string | boolean | undefined>;

/** An error in what the user typed: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** A `--name SECONDS` option as milliseconds; 0 allowed (it turns a feature off). */
export function secondsOption(values: CommandValues, name: string): number {
  const text = String(values[name]);
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`--${name} "${text}": expected a number of seconds`);
  return Math.round(Number(text) * 1000);
}

/** A `--ca FILE` option: the PEM text, or undefined when not given. */
export function caOption(values: CommandValues): string | undefined {
  const file = values.ca;
  if (typeof file !== 'string') return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--ca "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A log line on stderr with a timestamp; journald and a terminal both read it. */
export function logLine(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}
