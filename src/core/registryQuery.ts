/**
 * Reads a registry key on Windows with the system's own `reg.exe query`, the
 * one tool every Windows has, so that no native module is needed. Its output
 * is parsed by windowsProxySettings.ts.
 */
import { execFile } from 'node:child_process';

/** A key that cannot be read. */
export class RegistryError extends Error {
  override name = 'RegistryError';
}

/**
 * The text `reg.exe query KEY` prints. A key that does not exist is an empty
 * text (no values), as for a user who never opened the proxy settings.
 *
 * @throws {RegistryError} when reg.exe cannot be run or times out.
 */
export function queryRegistryKey(key: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('reg.exe', ['query', key], { timeout: timeoutMs, windowsHide: true, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as Error & { code?: unknown; killed?: boolean };
      // reg.exe exits 1 for a missing key ("ERROR: The system was unable to find the specified registry key or value.").
      if (e.code === 1 && /unable to find|not find/i.test(stderr + stdout)) return resolve('');
      if (e.killed) return reject(new RegistryError(`reg.exe query "${key}" did not answer within ${timeoutMs / 1000} s`));
      reject(new RegistryError(`cannot read ${key} with reg.exe: ${(stderr || e.message).trim().split('\n')[0]}`));
    });
  });
}
