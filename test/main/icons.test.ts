// The committed icons in assets/: every tray state for both taskbar themes,
// .ico files with the sizes Windows picks from at 100–200% scaling, and the
// app icon up to 256 px for the installer and the taskbar.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { readIcoDirectory } from '../../scripts/icoFile';
import { TRAY_STATES, TRAY_THEMES, trayIconFileName } from '../../src/main/trayIcon';

const assets = path.resolve(__dirname, '..', '..', '..', 'assets');

function checkIco(file: string, sizes: number[]): void {
  const data = fs.readFileSync(file);
  const entries = readIcoDirectory(data);
  assert.deepEqual(entries.map((e) => [e.width, e.height]), sizes.map((s) => [s, s]), path.basename(file));
  for (const entry of entries) {
    assert.equal(entry.bitsPerPixel, 32);
    assert.ok(entry.offset + entry.bytes <= data.length, 'the image lies inside the file');
    const png = PNG.sync.read(data.subarray(entry.offset, entry.offset + entry.bytes));
    assert.equal(png.width, entry.width, 'the stored image has the size its entry says');
    assert.equal(png.height, entry.height);
  }
}

test('a tray icon for each state and taskbar theme: .ico 16/20/24/32 and .png', () => {
  for (const state of TRAY_STATES) {
    for (const theme of TRAY_THEMES) {
      checkIco(path.join(assets, trayIconFileName(state, theme, 'win32')), [16, 20, 24, 32]);
      const png = PNG.sync.read(fs.readFileSync(path.join(assets, trayIconFileName(state, theme, 'linux'))));
      assert.equal(png.width, 16);
      const hiDpi = PNG.sync.read(fs.readFileSync(path.join(assets, trayIconFileName(state, theme, 'linux').replace('.png', '@2x.png'))));
      assert.equal(hiDpi.width, 32);
    }
  }
});

test('the four states differ at 16x16 in shape, not only in colour', () => {
  // Compare alpha masks: which pixels are (mostly) covered.
  const masks = TRAY_STATES.map((state) => {
    const png = PNG.sync.read(fs.readFileSync(path.join(assets, trayIconFileName(state, 'light', 'linux'))));
    const mask: number[] = [];
    for (let i = 0; i < png.data.length; i += 4) {
      // 0 transparent, 1 coloured shape, 2 light mark (the arrows, the "!").
      const covered = png.data[i + 3] > 128;
      const light = png.data[i] + png.data[i + 1] + png.data[i + 2] > 600;
      mask.push(covered ? (light ? 2 : 1) : 0);
    }
    return mask;
  });
  for (let a = 0; a < masks.length; a++) {
    for (let b = a + 1; b < masks.length; b++) {
      const differing = masks[a].filter((v, i) => v !== masks[b][i]).length;
      assert.ok(differing >= 20, `${TRAY_STATES[a]} vs ${TRAY_STATES[b]}: only ${differing} of 256 pixels differ`);
    }
  }
});

test('the app icon has every size up to 256', () => {
  checkIco(path.join(assets, 'app.ico'), [16, 20, 24, 32, 48, 64, 128, 256]);
  assert.equal(PNG.sync.read(fs.readFileSync(path.join(assets, 'app.png'))).width, 512);
});
