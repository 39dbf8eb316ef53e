/**
 * A log file rotated by size: `wssh.log` until it would pass `maxBytes`,
 * then `wssh.log` becomes `wssh.log.1` (`.1` becomes `.2`, …, the oldest
 * kept is `.keep`, older ones are deleted), and a new `wssh.log` starts. The
 * tray app keeps its log this way in its data folder; `--log-file` of
 * `wssh connect`, `client` and `server` too.
 *
 * Small on purpose: lines are written synchronously (as stderr on a pipe is),
 * so a crash loses none and the order is the order of the calls; a log
 * writes a few lines a minute for a person, a line or two per tunnel for a
 * server. A failed write (a full disk, a removed folder) is reported once and
 * never throws: logging must not take the tunnel down. Several processes may
 * append to one file (ssh starts a `wssh client` per session): before each
 * line the file at the path is looked at, so each counts the others' lines
 * and follows a rotation another made.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Where a file is rotated: 1 MiB. */
export const DEFAULT_LOG_FILE_BYTES = 1024 * 1024;
/** Rotated files kept besides the current one: with 1 MiB each, 4 MiB in all. */
export const DEFAULT_LOG_FILES_KEPT = 3;

export interface LogFileOptions {
  /** @default DEFAULT_LOG_FILE_BYTES */
  maxBytes?: number;
  /** @default DEFAULT_LOG_FILES_KEPT */
  keep?: number;
  /** Told once when a write fails, with why; writing is tried again at the next line. */
  onError?: (err: Error) => void;
}

export class LogFile {
  private fd: number | undefined;
  /** The open file's inode: another process that rotated the file leaves another one at the path. */
  private ino = 0;
  private size = 0;
  private failed = false;
  private readonly maxBytes: number;
  private readonly keep: number;

  /**
   * Opens (creates, with its folder) `file` for appending.
   * @throws the error of opening it (EACCES, EISDIR…): a file that cannot be written is said at start.
   */
  constructor(
    readonly file: string,
    private readonly options: LogFileOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_LOG_FILE_BYTES;
    this.keep = options.keep ?? DEFAULT_LOG_FILES_KEPT;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.open();
  }

  /** Appends `text` (lines, each ending in a newline). */
  write(text: string): void {
    const bytes = Buffer.byteLength(text);
    try {
      this.follow();
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      fs.writeSync(this.fd!, text);
      this.size += bytes;
      this.failed = false;
    } catch (err) {
      this.close();
      const first = !this.failed;
      // Before telling: what hears it may log the failure, through this file.
      this.failed = true;
      if (first) this.options.onError?.(err as Error);
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Closing is all that was left to do with it.
    }
    this.fd = undefined;
  }

  private open(): void {
    // Owner only: a log names hosts, users and addresses.
    this.fd = fs.openSync(this.file, 'a', 0o600);
    const stat = fs.fstatSync(this.fd);
    this.ino = stat.ino;
    this.size = stat.size;
  }

  /**
   * The file at the path now, with its size (other processes may write it
   * too): reopened when it is not the one open here any more (another
   * process rotated it, or it was removed).
   */
  private follow(): void {
    let now: fs.Stats | undefined;
    try {
      now = fs.statSync(this.file);
    } catch {
      now = undefined;
    }
    if (this.fd !== undefined && now?.ino === this.ino) {
      this.size = now.size;
      return;
    }
    this.close();
    this.open();
  }

  /** The file is full: shift the old ones, and start a new one. */
  private rotate(): void {
    this.close();
    fs.rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let n = this.keep - 1; n >= 1; n--) renameIfThere(`${this.file}.${n}`, `${this.file}.${n + 1}`);
    if (this.keep > 0) renameIfThere(this.file, `${this.file}.1`);
    else fs.rmSync(this.file, { force: true });
    this.open();
  }
}

function renameIfThere(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
