/**
 * A config file that may not load at start (`wssh server --wait-for-config`).
 * On Kubernetes a hosts.yml from a ConfigMap (or a users file from a Secret)
 * that is broken or missing when a pod starts is fixed by updating the
 * ConfigMap, and the kubelet brings the fix into the running pod: waiting
 * for it, not ready meanwhile, beats exiting into a restart loop whose
 * back-off grows to minutes.
 *
 * `open` is tried at start and again on every poll until it succeeds; what
 * it returns (a WatchedFile) then keeps the file current as usual. Each new
 * reason it fails for is reported once, not once a poll.
 */
import { EventEmitter } from 'node:events';

export interface AwaitedFileEvents<F> {
  /** The file loaded: from now on `file` is set. */
  loaded: [file: F];
  /** It did not load, for a reason not reported before. */
  error: [error: Error];
}

export class AwaitedFile<F extends { close(): void }> extends EventEmitter<AwaitedFileEvents<F>> {
  #file: F | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastReason: string | undefined;
  #closed = false;

  /**
   * @param open loads the file, throwing an error that names the file (and line) when it cannot.
   * @param intervalMs how often to try again while it does not load.
   */
  constructor(
    private readonly open: () => F,
    private readonly intervalMs = 1000,
  ) {
    super();
  }

  /** Tries now, after the listeners are on; on failure, again every interval until it loads. */
  start(): this {
    if (!this.retry()) this.#timer = setInterval(() => this.retry(), this.intervalMs).unref();
    return this;
  }

  /** The file, once it has loaded. */
  get file(): F | undefined {
    return this.#file;
  }

  /** Tries again now (SIGHUP); returns whether the file is loaded. */
  retry(): boolean {
    if (this.#file || this.#closed) return this.#file !== undefined;
    try {
      this.#file = this.open();
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      if (error.message !== this.#lastReason) {
        this.#lastReason = error.message;
        this.emit('error', error);
      }
      return false;
    }
    clearInterval(this.#timer);
    this.emit('loaded', this.#file);
    return true;
  }

  /** Stops trying, and closes the file if it loaded. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#file?.close();
  }
}
