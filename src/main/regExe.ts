/**
 * The Windows registry through `reg.exe`, the one tool every Windows has:
 * `reg query KEY /s` to read a tree, `reg add` and `reg delete` to write one
 * value. Callers get a RegRunner, so that tests run the same logic against
 * Wine's reg (a real registry) or a runner of their own.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface RegResult {
  /** reg.exe's exit code: 0 done, 1 failed (a missing key, access denied, …). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs reg.exe with `args` (each one argument, never parsed by a shell). */
export interface RegRunner {
  run(args: string[]): Promise<RegResult>;
}

/** A registry value as `reg query` shows it: its type and its data as text. */
export interface RegValue {
  type: string;
  data: string;
}

/** A key's values by name. */
export type RegValues = Map<string, RegValue>;

/**
 * Windows' own reg.exe, by its full path (a `reg.exe` earlier on PATH must
 * not be run instead). Output is read as UTF-8: the session key names this
 * app reads are %XX-escaped ASCII, and so are the values it writes.
 */
export function windowsRegRunner(systemRoot = process.env.SystemRoot ?? 'C:\\Windows'): RegRunner {
  const exe = path.win32.join(systemRoot, 'System32', 'reg.exe');
  return {
    run: (args) =>
      new Promise((resolve) => {
        execFile(exe, args, { windowsHide: true, timeout: 15_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && code === -1 ? err.message : '')) });
        });
      }),
  };
}

/**
 * `reg query KEY /s` output: each key's full name on a line of its own, its
 * values below it indented by four spaces as `NAME    TYPE    DATA` (DATA
 * may be empty, and may hold runs of spaces of its own).
 */
export function parseRegQuery(text: string): Map<string, RegValues> {
  const keys = new Map<string, RegValues>();
  let current: RegValues | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\r$/, '');
    if (/^HKEY_[A-Z_]+(\\|$)/.test(line)) {
      current = new Map();
      keys.set(line.trimEnd(), current);
      continue;
    }
    const value = /^ {4}(.*?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/.exec(line);
    if (value && current) current.set(value[1] === '(Default)' ? '' : value[1], { type: value[2], data: value[3] ?? '' });
  }
  return keys;
}

/** The full name of a key as `reg query` prints it: `HKCU\…` becomes `HKEY_CURRENT_USER\…`. */
export function fullKeyName(key: string): string {
  return key.replace(/^HKCU(?=\\|$)/, 'HKEY_CURRENT_USER');
}

/** The data `reg add /d` takes for a value as `reg query` showed it: a DWORD in decimal. */
export function regAddData(value: RegValue): string {
  if (value.type === 'REG_DWORD' || value.type === 'REG_QWORD') return BigInt(value.data).toString(10);
  return value.data;
}
