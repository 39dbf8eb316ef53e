/**
 * The regression cases: each finding of `npm run fuzz` is kept as
 * `test/fuzz/cases/TARGET/ID.json` (its input, what was wrong, the seed
 * that found it), and test/fuzz/regressions.test.ts replays every one.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The repository's root, from dist/scripts/fuzz. */
const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CASES_DIR = path.join(ROOT, 'test', 'fuzz', 'cases');

export interface SavedCase {
  target: string;
  /** The input, encoded (codec.ts). */
  input: string;
  /** What was wrong when it was found. */
  problem: string;
  seed?: number;
  found: string;
  /**
   * A finding not fixed yet: why, and where the fix belongs. The tests list
   * it as skipped with this reason instead of replaying it; the fix removes it.
   */
  open?: string;
}

/** Every saved case of `target`, by file name. */
export function savedCases(target: string): Array<{ file: string; saved: SavedCase }> {
  const dir = path.join(CASES_DIR, target);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ file: path.join(dir, name), saved: JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as SavedCase }));
}

/** Saves a finding (once: the same input of the same target is one file); returns its path. */
export function saveCase(saved: SavedCase): string {
  const id = crypto.createHash('sha256').update(saved.target).update('\0').update(saved.input).digest('hex').slice(0, 12);
  const dir = path.join(CASES_DIR, saved.target);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${id}.json`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, JSON.stringify(saved, null, 2) + '\n');
  return file;
}
