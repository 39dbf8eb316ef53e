/** The version of this package, as `wssh --version` prints it. */
import fs from 'node:fs';
import path from 'node:path';

export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  return `wssh ${pkg.version}`;
}
