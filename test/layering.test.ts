// Which code may import which (issue #19). The rooms: src/shared (browser-safe,
// imports only itself: browserOnly.test.ts), src/core (pure Node, no
// Electron), server (deployable without Electron), src/cli, and src/main
// (Electron's main process). Inside core, main and server, one folder per
// concern, and folders import only downwards: each room's folders are listed
// below bottom first, and a file may import its own folder and the ones listed
// before it. A total order has no cycles, so none can creep in. A new folder
// goes into the table where it belongs; until it does, this test fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '..', '..');

/** Each room's folders, bottom first ('.' is the room's own folder). */
const LAYERS: Record<string, string[]> = {
  // The Windows registry module sits in src/core itself, under everything.
  // tunnel/ holds the relay and the refusal table with its error, which
  // everything that opens or accepts a tunnel uses; the local proxy is on top.
  'src/core': ['.', 'tunnel', 'inbound', 'upstream/auth', 'upstream', 'dial/trust', 'dial', 'localProxy', 'doctor'],
  // main.ts and appStartup.ts tie the folders together.
  'src/main': ['settings', 'savedSessions', 'tunnel', 'tray', 'window', '.'],
  // wsshServer.ts and what it checks per request; both YAML files are read by configFiles/.
  server: ['configFiles', 'policy', 'auth', '.'],
  'src/cli': ['.'],
};

/** The other rooms each room may import. */
const ROOMS: Record<string, string[]> = {
  'src/shared': [],
  'src/core': ['src/shared'],
  server: ['src/core', 'src/shared'],
  'src/cli': ['server', 'src/core', 'src/shared'],
  'src/main': ['src/core', 'src/shared'],
  'src/preload': ['src/shared'],
  'src/renderer': ['src/shared'],
};

/** Electron's own packages, for the main process and the preload only. */
const ELECTRON = /^electron(-store)?(\/|$)/;
const ELECTRON_ROOMS = ['src/main', 'src/preload'];

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

function folders(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => [`${dir}/${e.name}`, ...folders(`${dir}/${e.name}`)]);
}

/** A repo path's room and its folder inside the room ('.' for the room's own). */
function place(file: string): { room: string; folder: string } | undefined {
  const room = Object.keys(ROOMS).find((r) => file.startsWith(`${r}/`));
  if (!room) return undefined;
  const dir = path.posix.dirname(file);
  return { room, folder: dir === room ? '.' : dir.slice(room.length + 1) };
}

/** Every import of a file, `import type` and `export … from` included: what it names, and for a relative one the repo path it reaches. */
function imports(file: string): { specifier: string; reaches?: string }[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }) => ({
    specifier: fileName,
    reaches: fileName.startsWith('.') ? path.posix.join(path.posix.dirname(file), fileName) : undefined,
  }));
}

const files = Object.keys(ROOMS).flatMap((room) => sources(room));

test('every folder of core, main, server and cli has its place in the table', () => {
  for (const [room, layers] of Object.entries(LAYERS)) {
    const found = folders(room).map((f) => f.slice(room.length + 1));
    assert.deepEqual(
      found.filter((f) => !layers.includes(f)),
      [],
      `${room}: folders missing from LAYERS`,
    );
    assert.deepEqual(
      layers.filter((f) => f !== '.' && !found.includes(f)),
      [],
      `${room}: LAYERS names folders that are gone`,
    );
  }
});

test('each room imports only the rooms below it, and only main and the preload load Electron', () => {
  const wrong: string[] = [];
  for (const file of files) {
    const here = place(file)!;
    for (const { specifier, reaches } of imports(file)) {
      if (reaches === undefined) {
        if (ELECTRON.test(specifier) && !ELECTRON_ROOMS.includes(here.room)) wrong.push(`${file} imports ${specifier}`);
        continue;
      }
      const there = place(reaches);
      if (!there) wrong.push(`${file} imports ${specifier}, outside src and server`);
      else if (there.room !== here.room && !ROOMS[here.room].includes(there.room))
        wrong.push(`${file} imports ${specifier} (${here.room} may not use ${there.room})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('folders import only downwards', () => {
  const wrong: string[] = [];
  for (const file of files) {
    const here = place(file)!;
    const layers = LAYERS[here.room];
    if (!layers) continue;
    for (const { specifier, reaches } of imports(file)) {
      const there = reaches === undefined ? undefined : place(reaches);
      if (!there || there.room !== here.room || there.folder === here.folder) continue;
      if (layers.indexOf(there.folder) > layers.indexOf(here.folder)) wrong.push(`${file} imports ${specifier}: ${there.folder} is above ${here.folder}`);
    }
  }
  assert.deepEqual(wrong, []);
});

// The IPC contract is between main, the preload and the window. A type the core
// shares with them (an endpoint's settings, a tunnel's row) lives in a file of
// its own in src/shared, which the contract names too.
test('the core and the server do not import the IPC contract', () => {
  const wrong = files
    .filter((file) => file.startsWith('src/core/') || file.startsWith('server/'))
    .flatMap((file) =>
      imports(file)
        .filter(({ reaches }) => reaches === 'src/shared/ipc')
        .map(({ specifier }) => `${file} imports ${specifier}`),
    );
  assert.deepEqual(wrong, []);
});
