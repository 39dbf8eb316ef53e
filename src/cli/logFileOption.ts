/**
 * `--log-file FILE` of `wssh connect`, `client` and `server`: what the
 * command writes on stderr (its log, which systemd's journal or ssh shows)
 * is also appended to FILE, rotated by size (core/logFile.ts), for a
 * machine where stderr is lost (a scheduled task, a service without a
 * journal). stderr itself is unchanged.
 *
 * Every line in the file starts with a time: the log's own lines have one,
 * and `wssh client`'s `wssh: …` lines get one there.
 */
import { DEFAULT_LOG_FILES_KEPT, DEFAULT_LOG_FILE_BYTES, LogFile } from '../core/logFile';
import { UsageError } from './options';

/** The option's line in the commands' --help. */
export const LOG_FILE_USAGE = `  --log-file FILE          also append the log to FILE (rotated at ${DEFAULT_LOG_FILE_BYTES / 1024 / 1024} MiB:
                           FILE.1 … FILE.${DEFAULT_LOG_FILES_KEPT} keep the older lines)`;

export const LOG_FILE_OPTION = { 'log-file': { type: 'string' } } as const;

const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;

/**
 * From now on, stderr is copied to `file`. @throws {UsageError} when the file cannot be opened.
 */
export function copyStderrTo(file: string): LogFile {
  let log: LogFile;
  try {
    log = new LogFile(file, {
      onError: (err) => original(`wssh: --log-file "${file}": ${(err as NodeJS.ErrnoException).code ?? err.message}; the log goes on on stderr only\n`),
    });
  } catch (err) {
    throw new UsageError(`--log-file "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const stderr = process.stderr;
  const original = stderr.write.bind(stderr) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
  let partial = '';
  stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const end = text.lastIndexOf('\n') + 1;
    partial = text.slice(end);
    if (end > 0) {
      const now = new Date().toISOString();
      const lines = text.slice(0, end).split('\n').slice(0, -1);
      log.write(lines.map((line) => (STAMPED.test(line) ? line : `${now} ${line}`)).join('\n') + '\n');
    }
    return original(chunk, ...rest);
  }) as typeof stderr.write;
  return log;
}
