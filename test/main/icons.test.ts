// The committed icons in assets/: every tray state for both taskbar themes,
// .ico files with the sizes Windows picks from at 100–200% scaling, and the
// app icon up to 256 px for the installer and the taskbar. The .ico directory
// is read twice: by hand here (as Windows reads it) and by scripts/icoFile.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { readIcoDirectory } from '../../scripts/icoFile';
import { TRAY_STATES, TRAY_THEMES, trayIconFileName } from '../../src/main/tray/trayIcon';

const assets = path.resolve(__dirname, '..', '..', '..', 'assets');

/** The image sizes an .ico declares, read straight from its ICONDIR (a width byte of 0 means 256). */
function icoSizesByHand(data: Buffer): number[] {
  assert.equal(data.readUInt16LE(0), 0, 'ICONDIR reserved word');
  assert.equal(data.readUInt16LE(2), 1, 'ICONDIR type 1 (icon, not cursor)');
  const count = data.readUInt16LE(4);
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const entry = 6 + 16 * i;
    const width = data[entry] || 256;
    const height = data[entry + 1] || 256;
    assert.equal(width, height, 'square images');
    sizes.push(width);
  }
  return sizes;
}

/** Every image in an .ico, decoded. */
function icoImages(data: Buffer): PNG[] {
  return readIcoDirectory(data).map((e) => PNG.sync.read(data.subarray(e.offset, e.offset + e.bytes)));
}

function checkIco(file: string, sizes: number[]): void {
  const data = fs.readFileSync(file);
  assert.deepEqual(icoSizesByHand(data), sizes, path.basename(file));
  const entries = readIcoDirectory(data);
  assert.deepEqual(
    entries.map((e) => [e.width, e.height]),
    sizes.map((s) => [s, s]),
    path.basename(file),
  );
  for (const entry of entries) {
    assert.equal(entry.bitsPerPixel, 32);
    assert.ok(entry.offset + entry.bytes <= data.length, 'the image lies inside the file');
    const png = PNG.sync.read(data.subarray(entry.offset, entry.offset + entry.bytes));
    assert.equal(png.width, entry.width, 'the stored image has the size its entry says');
    assert.equal(png.height, entry.height);
  }
}

test('the tray has five states, each in a light and a dark variant, and no other icon files', () => {
  assert.deepEqual([...TRAY_STATES], ['stopped', 'listening', 'active', 'reconnecting', 'error']);
  assert.deepEqual([...TRAY_THEMES], ['light', 'dark']);
  const expected = TRAY_STATES.flatMap((state) =>
    TRAY_THEMES.flatMap((theme) => {
      const png = trayIconFileName(state, theme, 'linux');
      return [trayIconFileName(state, theme, 'win32'), png, png.replace('.png', '@2x.png')];
    }),
  );
  const present = fs.readdirSync(assets).filter((name) => name.startsWith('tray-'));
  assert.deepEqual(present.sort(), expected.sort());
});

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

test('the five states differ at 16x16 in shape, not only in colour', () => {
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

/** Relative luminance-ish (0–255) of an RGB pixel. */
function luminance(r: number, g: number, b: number): number {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * How far the icon's outline (covered pixels next to a transparent one) is
 * from a taskbar of luminance `background`, on average: what makes the icon
 * stand out in the tray.
 */
function outlineContrast(png: PNG, background: number): number {
  const covered = (x: number, y: number) => x >= 0 && y >= 0 && x < png.width && y < png.height && png.data[(y * png.width + x) * 4 + 3] >= 128;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      if (!covered(x, y) || (covered(x - 1, y) && covered(x + 1, y) && covered(x, y - 1) && covered(x, y + 1))) continue;
      const i = (y * png.width + x) * 4;
      sum += Math.abs(luminance(png.data[i], png.data[i + 1], png.data[i + 2]) - background);
      n++;
    }
  }
  assert.ok(n > 0, 'the icon has an outline');
  return sum / n;
}

function alphaMask(png: PNG): boolean[] {
  const mask: boolean[] = [];
  for (let i = 3; i < png.data.length; i += 4) mask.push(png.data[i] >= 128);
  return mask;
}

test('the light and dark variants: same shape, each standing out on its own taskbar, at every size', () => {
  // Windows 11's taskbar: about #f3f3f3 in light mode, #202020 in dark mode.
  const LIGHT_TASKBAR = 243;
  const DARK_TASKBAR = 32;
  for (const state of TRAY_STATES) {
    const images = (theme: 'light' | 'dark'): PNG[] => {
      const png = trayIconFileName(state, theme, 'linux');
      return [
        PNG.sync.read(fs.readFileSync(path.join(assets, png))),
        PNG.sync.read(fs.readFileSync(path.join(assets, png.replace('.png', '@2x.png')))),
        ...icoImages(fs.readFileSync(path.join(assets, trayIconFileName(state, theme, 'win32')))),
      ];
    };
    const light = images('light');
    const dark = images('dark');
    assert.equal(light.length, dark.length);
    light.forEach((l, i) => {
      const d = dark[i];
      const what = `${state} ${l.width}px`;
      assert.equal(d.width, l.width, what);
      assert.deepEqual(alphaMask(d), alphaMask(l), `${what}: the dark variant has the same shape`);
      assert.ok(outlineContrast(l, LIGHT_TASKBAR) > outlineContrast(d, LIGHT_TASKBAR) + 20, `${what}: the light variant stands out more on a light taskbar`);
      assert.ok(outlineContrast(d, DARK_TASKBAR) > outlineContrast(l, DARK_TASKBAR) + 20, `${what}: the dark variant stands out more on a dark taskbar`);
    });
  }
});
