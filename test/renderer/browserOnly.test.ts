// The page runs browser code only: its bundle is made of src/renderer and
// src/shared and nothing else (no Node module, no stand-in for one), and
// src/shared, which main, core and the renderer all import, imports nothing
// outside itself. (Node's globals, Buffer or process, are kept out by the
// renderer's typecheck, which covers src/shared without Node's types.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');

test('the renderer bundle holds only src/renderer and src/shared', () => {
  const mapFile = path.join(root, 'dist', 'app', 'renderer', 'app.js.map');
  const map = JSON.parse(fs.readFileSync(mapFile, 'utf8')) as { sources: string[] };
  const sources = map.sources.map((s) =>
    path
      .relative(root, path.resolve(path.dirname(mapFile), s))
      .split(path.sep)
      .join('/'),
  );
  assert.ok(sources.includes('src/shared/endpoint.ts'), 'the URI parser is the shared one');
  assert.deepEqual(
    sources.filter((s) => !/^src\/(renderer|shared)\//.test(s)),
    [],
  );
});

test('src/shared imports only src/shared', () => {
  const dir = path.join(root, 'src', 'shared');
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'|\brequire\s*\(\s*'([^']+)'/g)].map((m) => m[1] ?? m[2] ?? m[3]);
    for (const spec of specifiers) assert.match(spec, /^\.\/[\w.-]+$/, `${name} imports ${spec}`);
  }
});
