/**
 * Keeps the hosts.yml policy current while the server runs, so an admin's
 * edit applies to the next tunnel without a restart.
 *
 * Polls with fs.watchFile rather than fs.watch: editors (vim, sed -i,
 * config management) replace the file by writing a new one and renaming it
 * over the old, which leaves an fs.watch handle on the deleted inode; a stat
 * poll of the path sees the new file. A broken edit never takes effect: the
 * last good policy stays in force and the error says where the problem is.
 *
 * The file is read when a poll sees it changed. A poll that lands in the
 * middle of an in-place rewrite (`cat > hosts.yml`) can read a truncated
 * file, which is used if it parses, until the next poll sees the rest;
 * replacing the file by rename, as editors do, has no such window.
 */
import { EventEmitter } from 'node:events';
import { unwatchFile, watchFile } from 'node:fs';
import { HostsPolicy, loadPolicyFile, PolicyError } from './hostsPolicy';

export interface PolicyWatcherOptions {
  /** How often to stat the file, in ms. @default 1000 */
  intervalMs?: number;
}

const DEFAULT_INTERVAL_MS = 1000;

interface PolicyWatcherEvents {
  /** A changed file was loaded; it is now {@link PolicyWatcher.policy}. */
  reload: [policy: HostsPolicy];
  /** A changed file could not be loaded (or was deleted); the last good policy stays. */
  error: [error: PolicyError];
}

/**
 * Loads a policy file and reloads it when it changes.
 *
 * Listen for 'error': without a listener a bad edit is reported as a
 * process warning instead of throwing, since a typo in hosts.yml must not
 * bring the server down.
 */
export class PolicyWatcher extends EventEmitter<PolicyWatcherEvents> {
  #policy: HostsPolicy;
  #closed = false;
  readonly #listener = (): void => this.#changed();

  /**
   * @param path the hosts.yml to load and watch.
   * @throws {PolicyError} if the first load fails, so the server can refuse
   *   to start with a message that names the file, line and column.
   */
  constructor(
    readonly path: string,
    { intervalMs = DEFAULT_INTERVAL_MS }: PolicyWatcherOptions = {},
  ) {
    super();
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be a positive number, got ${intervalMs}`);
    this.#policy = loadPolicyFile(path);
    // Not persistent: watching a file is never a reason for the process to stay up.
    watchFile(path, { interval: intervalMs, persistent: false }, this.#listener);
  }

  /** The policy in force: the last one that loaded without error. */
  get policy(): HostsPolicy {
    return this.#policy;
  }

  /**
   * Loads the file now (for a SIGHUP handler, say). Emits 'reload' or
   * 'error' like a detected change, and returns whether it loaded.
   */
  reload(): boolean {
    if (this.#closed) return false;
    let policy: HostsPolicy;
    try {
      policy = loadPolicyFile(this.path);
    } catch (e) {
      const error = e instanceof PolicyError ? e : new PolicyError(String(e), this.path);
      if (this.listenerCount('error') > 0) this.emit('error', error);
      else process.emitWarning(`${error.message}; keeping the last good policy`, 'PolicyWarning');
      return false;
    }
    this.#policy = policy;
    this.emit('reload', policy);
    return true;
  }

  /** Stops watching. The current policy stays readable. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    unwatchFile(this.path, this.#listener);
  }

  #changed(): void {
    // A deleted file (stats all zero) goes through reload() too, which
    // reports "file not found" and keeps the last good policy; the file's
    // return is another change and loads it.
    this.reload();
  }
}
