/**
 * The bench's console output: the report on stdout, progress on stderr, and
 * the few ways it writes a table, a size and an aim's verdict.
 */
import { MiB } from './farEnd';

export const say = (line = '') => process.stdout.write(line + '\n');
/** Progress goes to stderr, the report to stdout. */
export const progress = (line: string) => process.stderr.write(`  … ${line}\n`);

export const verdict = (ok: boolean) => (ok ? 'MEETS the aim' : 'MISSES the aim');
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
export const signedMib = (bytes: number) => `${bytes >= 0 ? '+' : '-'}${(Math.abs(bytes) / MiB).toFixed(1)} MiB`;
/** Whole megabytes (10^6 bytes), as the scale part counts memory. */
export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
/** Whole milliseconds; '-' for a time never measured. */
export const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : '-');

/** Rows as columns padded to their widest cell, each left- or right-aligned. */
export function table(rows: string[][], align: Array<'l' | 'r'>): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map(
      (r) =>
        '  ' +
        r
          .map((cell, c) => (align[c] === 'l' ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
          .join('   ')
          .trimEnd(),
    )
    .join('\n');
}
