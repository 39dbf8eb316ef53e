/**
 * A config file the server keeps current while it runs (hosts.yml, the users
 * file), so an admin's edit applies to the next tunnel without a restart.
 *
 * Polls the path's stat on a timer rather than fs.watch: editors (vim, sed
 * -i, config management) replace the file by writing a new one and renaming
 * it over the old, which leaves an fs.watch handle on the deleted inode; a
 * stat of the path sees the new file. It follows symlinks, so Kubernetes'
 * update of a mounted ConfigMap or Secret (a new `..data` link swapped in by
 * rename, the file a link through it) is a new version too. The version to
 * compare with is the one stat'ed just before the file was read, not
 * fs.watchFile's first stat, which is taken later: an edit in between went
 * unseen until the next one. A broken edit never takes effect: the last good
 * value stays in force and the error says where the problem is.
 *
 * The file is read when a poll sees it changed. A poll that lands in the
 * middle of an in-place rewrite (`cat > hosts.yml`) can read a truncated
 * file, which is used if it parses, until the next poll sees the rest;
 * replacing the file by rename, as editors do, has no such window.
 */
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';

export interface WatchedFileOptions {
  /** How often to stat the file, in ms. @default 1000 */
  intervalMs?: number;
}

const DEFAULT_INTERVAL_MS = 1000;

export interface WatchedFileEvents<T, E extends Error> {
  /** A changed file was loaded; it is now the value in force. */
  reload: [value: T];
  /** A changed file could not be loaded (or was deleted); the last good value stays. */
  error: [error: E];
}

/** How a watched file is read, and what a failure is called. */
export interface FileLoader<T, E extends Error> {
  /** Reads and parses the file; throws an `E` that names the file (and line) on failure. */
  load(path: string): T;
  /** Turns anything `load` threw into an `E`. */
  asError(thrown: unknown, path: string): E;
  /** The process warning's type when nobody listens for 'error', e.g. 'PolicyWarning'. */
  warningType: string;
  /** What the file holds, for "keeping the last good …": 'policy', 'users'. */
  noun: string;
}

/**
 * Loads a file and reloads it when it changes (or on {@link reload}, for a
 * SIGHUP handler).
 *
 * Listen for 'error': without a listener a bad edit is reported as a process
 * warning instead of throwing, since a typo in a config file must not bring
 * the server down.
 */
export class WatchedFile<T, E extends Error> extends EventEmitter<WatchedFileEvents<T, E>> {
  #value: T;
  #closed = false;
  /** The version of the file the value was read from (versionOf). */
  #version: string;
  readonly #loader: FileLoader<T, E>;
  readonly #timer: NodeJS.Timeout;

  /**
   * @throws the loader's error if the first load fails, so the server can
   *   refuse to start with a message that names the file, line and column.
   */
  constructor(
    readonly path: string,
    loader: FileLoader<T, E>,
    { intervalMs = DEFAULT_INTERVAL_MS }: WatchedFileOptions = {},
  ) {
    super();
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be a positive number, got ${intervalMs}`);
    this.#loader = loader;
    this.#version = versionOf(path);
    this.#value = loader.load(path);
    // Unref'd: watching a file is never a reason for the process to stay up.
    this.#timer = setInterval(() => this.#poll(), intervalMs).unref();
  }

  #poll(): void {
    // A deleted file is a version too: reload() reports "file not found" once and
    // keeps the last good value; the file's return is another version and loads it.
    if (versionOf(this.path) !== this.#version) this.reload();
  }

  /** The value in force: the last one that loaded without error. */
  get value(): T {
    return this.#value;
  }

  /**
   * Loads the file now. Emits 'reload' or 'error' like a detected change, and
   * returns whether it loaded.
   */
  reload(): boolean {
    if (this.#closed) return false;
    this.#version = versionOf(this.path);
    let value: T;
    try {
      value = this.#loader.load(this.path);
    } catch (e) {
      const error = this.#loader.asError(e, this.path);
      if (this.listenerCount('error') > 0) this.emit('error', error);
      else process.emitWarning(`${error.message}; keeping the last good ${this.#loader.noun}`, this.#loader.warningType);
      return false;
    }
    this.#value = value;
    this.emit('reload', value);
    return true;
  }

  /** Stops watching. The current value stays readable. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
  }
}

/**
 * What tells one version of the file from another: a rename brings a new
 * inode, an edit in place a new size or time (nanoseconds). A file that
 * cannot be stat'ed is a version of its own, by the reason.
 */
function versionOf(path: string): string {
  try {
    const stat = statSync(path, { bigint: true });
    return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}
