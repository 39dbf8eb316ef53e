/**
 * Temporary directories for the scripts and the tests: every real program
 * they start reads its config and keys from, and writes its pid and logs to,
 * a directory of its own, so nothing touches /etc, /var or the user's ~/.ssh
 * and runs can go on side by side.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const removeAtExit = new Set<string>();
let exitHookInstalled = false;

/** A new empty directory under os.tmpdir() (mode 0700). */
export function makeTempDir(prefix = 'wssh-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Remove a directory tree. Set WSSH_KEEP_TMP=1 to keep it for a post-mortem
 * (the path is printed instead).
 */
export function removeTempDir(dir: string): void {
  removeAtExit.delete(dir);
  if (process.env.WSSH_KEEP_TMP === '1') {
    process.stderr.write(`kept temp dir ${dir}\n`);
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Remove `dir` when this process exits, if nobody removed it before (a
 * daemon whose stop() was never called). Synchronous, as 'exit' handlers
 * must be.
 */
export function removeOnExit(dir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const d of removeAtExit) removeTempDir(d);
    });
  }
  removeAtExit.add(dir);
}
