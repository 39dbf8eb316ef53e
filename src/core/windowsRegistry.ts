/**
 * The Windows registry through `reg.exe`, the one tool every Windows has, so
 * that no native module is needed: `reg query KEY [/s]` to read, `reg add`
 * and `reg delete` to write one value. The one place that runs reg.exe and
 * reads its output, for the system proxy (systemProxy.ts) and the saved
 * PuTTY/KiTTY/WinSCP sessions (main/savedSessions/savedSessions.ts) alike.
 *
 * Callers get a RegRunner, so that tests run the same logic against Wine's
 * reg (a real registry) or a runner of their own.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface RegResult {
  /** reg.exe's exit code: 0 done, 1 failed (a missing key, access denied, …); -1 when it could not be run or was stopped. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs reg.exe with `args` (each one argument, never parsed by a shell). */
export interface RegRunner {
  run(args: string[]): Promise<RegResult>;
}

/** A registry value as `reg query` shows it: its type (`REG_SZ`, `REG_DWORD`, …) and its data as text (a DWORD as `0x16`). */
export interface RegValue {
  type: string;
  data: string;
}

/** A key's values by name, as the registry spells them; the unnamed (default) value is ''. */
export type RegValues = Map<string, RegValue>;

/** A key that cannot be read. */
export class RegistryError extends Error {
  override name = 'RegistryError';
}

/** Where Windows lives when SystemRoot is not set. */
const DEFAULT_SYSTEM_ROOT = 'C:\\Windows';

/**
 * Windows' own reg.exe by its full path. Never the bare name: Windows looks
 * for a bare program name in the current directory before PATH, so a
 * `reg.exe` planted in the folder `wssh` was started from would run instead.
 * A SystemRoot that is not a full path (missing, empty) is taken as missing,
 * since a relative one would be looked up from the current directory again.
 */
export function regExePath(systemRoot: string | undefined): string {
  const root = systemRoot && /^[A-Za-z]:[\\/]/.test(systemRoot) ? systemRoot : DEFAULT_SYSTEM_ROOT;
  return path.win32.join(root, 'System32', 'reg.exe');
}

export interface WindowsRegRunnerOptions {
  /** Windows' folder, whose System32 holds reg.exe. @default process.env.SystemRoot, else C:\Windows */
  systemRoot?: string;
  /** How long one reg.exe call may take before it is stopped (code -1), in ms. @default 15000 */
  timeoutMs?: number;
}

/**
 * Windows' own reg.exe (regExePath). Output is read as UTF-8: the session key
 * names this app reads are %XX-escaped ASCII, and so are the values it writes
 * and the Internet Settings it reads.
 */
export function windowsRegRunner(options: WindowsRegRunnerOptions = {}): RegRunner {
  const exe = regExePath(options.systemRoot ?? process.env.SystemRoot);
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    run: (args) =>
      new Promise((resolve) => {
        execFile(exe, args, { windowsHide: true, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
          if (!err) return resolve({ code: 0, stdout, stderr });
          const e = err as Error & { code?: unknown; killed?: boolean; signal?: NodeJS.Signals | null };
          if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
          // Not Node's message: it is "Command failed: reg.exe add … /d DATA", and DATA may be a proxy password.
          const why = e.killed
            ? `reg.exe did not answer within ${timeoutMs / 1000} s`
            : `reg.exe could not be run (${typeof e.code === 'string' ? e.code : `ended by ${e.signal ?? 'an unknown cause'}`})`;
          resolve({ code: -1, stdout, stderr: stderr || why });
        });
      }),
  };
}

/**
 * `reg query KEY [/s]` output: each key's full name on a line of its own, its
 * values below it as `    NAME    TYPE    DATA`, four spaces before and between
 * the fields, exactly. That is all that is taken as a separator: a name may
 * hold spaces (`User Agent`, even runs of them), and DATA is kept as it is,
 * runs of spaces and leading or trailing spaces included (a switched session
 * is restored byte for byte). Empty DATA may have its four spaces or none.
 * A key's own line and its subkeys' lines (which hold no values) start keys.
 */
export function parseRegQuery(text: string): Map<string, RegValues> {
  const keys = new Map<string, RegValues>();
  let current: RegValues | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^HKEY_[A-Z_]+(\\|$)/.test(line)) {
      current = new Map();
      keys.set(line.trimEnd(), current);
      continue;
    }
    const value = /^ {4}(.*?) {4}(REG_[A-Z0-9_]+)(?: {4}(.*))?$/.exec(line);
    if (value && current) current.set(value[1] === '(Default)' ? '' : value[1], { type: value[2], data: value[3] ?? '' });
  }
  return keys;
}

/** The full name of a key as `reg query` prints it: `HKCU\…` becomes `HKEY_CURRENT_USER\…`. */
export function fullKeyName(key: string): string {
  return key.replace(/^HKCU(?=\\|$)/i, 'HKEY_CURRENT_USER');
}

/** `key`'s own values in `reg query` output (empty when it is not there); key names are case-insensitive, as in the registry. */
export function keyValues(text: string, key: string): RegValues {
  const wanted = fullKeyName(key).toLowerCase();
  for (const [name, values] of parseRegQuery(text)) if (name.toLowerCase() === wanted) return values;
  return new Map();
}

/** A value by name, case-insensitively, as the registry looks names up. */
export function valueNamed(values: RegValues, name: string): RegValue | undefined {
  const exact = values.get(name);
  if (exact) return exact;
  const wanted = name.toLowerCase();
  for (const [n, v] of values) if (n.toLowerCase() === wanted) return v;
  return undefined;
}

/** reg's message without its "ERROR: " prefix, on one line. */
export function regComplaint(result: RegResult): string {
  const line =
    `${result.stderr}\n${result.stdout}`
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== '') ?? 'reg.exe failed';
  return line.replace(/^ERROR:\s*/i, '').slice(0, 200);
}

/**
 * Whether reg failed because the key (or value) does not exist, as for a user
 * who never opened the proxy settings or never installed PuTTY. Windows says
 * "ERROR: The system was unable to find the specified registry key or value.".
 */
export function isMissingKey(result: RegResult): boolean {
  return result.code !== 0 && /unable to find|cannot find|not find|does not exist/i.test(regComplaint(result));
}

/**
 * `key`'s own values (`reg query KEY`). A key that does not exist has none.
 *
 * @throws {RegistryError} when reg.exe cannot be run, fails otherwise, or does not answer.
 */
export async function queryRegistryKey(key: string, reg: RegRunner): Promise<RegValues> {
  const result = await reg.run(['query', key]);
  if (result.code === 0) return keyValues(result.stdout, key);
  if (isMissingKey(result)) return new Map();
  throw new RegistryError(`cannot read ${key} with reg.exe: ${regComplaint(result)}`);
}

/**
 * The data `reg add /d` takes for a value as `reg query` showed it: a DWORD in decimal.
 *
 * @throws {RegistryError} for a DWORD or QWORD whose data is not a number (reg shows `0x16`).
 */
export function regAddData(value: RegValue): string {
  if (value.type !== 'REG_DWORD' && value.type !== 'REG_QWORD') return value.data;
  const data = value.data.trim();
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(data))
    throw new RegistryError(`reg.exe showed a ${value.type} that is not a number: ${JSON.stringify(data.slice(0, 40))}`);
  return BigInt(data).toString(10);
}
