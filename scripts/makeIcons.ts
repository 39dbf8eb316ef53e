/**
 * Draws the tray and app icons into assets/ (committed; run again after a
 * design change): `node dist/scripts/makeIcons.js`.
 *
 * Tray: five states told apart by shape as well as colour, so they read at
 * 16x16 and without colour vision: stopped = hollow ring, listening = filled
 * disc, active = disc with up/down arrows, reconnecting = a circular arrow
 * (a ring open at the top right, its head pointing on round), error =
 * triangle with "!". Each
 * for a light and a dark taskbar, as .ico (16, 20, 24, 32: 100–200% scaling)
 * and .png (32, and 16 as @1x for other platforms).
 * App: a rounded square with the tunnel mark, .ico up to 256 and a 512 PNG.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { writeIco } from './icoFile';

type RGB = [number, number, number];
/** A shape: does the point (x, y), in 0..1 icon coordinates, lie inside? */
type Shape = (x: number, y: number) => boolean;
interface Layer {
  shape: Shape;
  color: RGB;
}

const disc =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring =
  (cx: number, cy: number, r: number, inner: number): Shape =>
  (x, y) => {
    const d = (x - cx) ** 2 + (y - cy) ** 2;
    return d <= r * r && d >= inner * inner;
  };
const rect =
  (x0: number, y0: number, x1: number, y1: number): Shape =>
  (x, y) =>
    x >= x0 && x <= x1 && y >= y0 && y <= y1;
const triangle =
  (a: [number, number], b: [number, number], c: [number, number]): Shape =>
  (x, y) => {
    const side = (p: [number, number], q: [number, number]) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
    const s1 = side(a, b);
    const s2 = side(b, c);
    const s3 = side(c, a);
    return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
  };
/** Part of a shape: the points of `shape` whose angle around (cx, cy), in degrees from 3 o'clock clockwise (y grows down), is outside [from, to). */
const withoutSector =
  (shape: Shape, cx: number, cy: number, from: number, to: number): Shape =>
  (x, y) => {
    const angle = (Math.atan2(y - cy, x - cx) * 180) / Math.PI;
    return shape(x, y) && !(angle >= from && angle < to);
  };
const union =
  (...shapes: Shape[]): Shape =>
  (x, y) =>
    shapes.some((s) => s(x, y));
const roundedSquare =
  (inset: number, radius: number): Shape =>
  (x, y) => {
    const lo = inset + radius;
    const hi = 1 - inset - radius;
    const cx = Math.min(Math.max(x, lo), hi);
    const cy = Math.min(Math.max(y, lo), hi);
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius;
  };

/** Renders layers (later ones on top) with 4x4 supersampling for smooth edges. */
function render(size: number, layers: Layer[]): Buffer {
  const png = new PNG({ width: size, height: size });
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = (px + (sx + 0.5) / n) / size;
          const y = (py + (sy + 0.5) / n) / size;
          for (let i = layers.length - 1; i >= 0; i--) {
            if (layers[i].shape(x, y)) {
              const [lr, lg, lb] = layers[i].color;
              r += lr;
              g += lg;
              b += lb;
              a += 1;
              break;
            }
          }
        }
      }
      const at = (py * size + px) * 4;
      const samples = n * n;
      png.data[at] = a ? Math.round(r / a) : 0;
      png.data[at + 1] = a ? Math.round(g / a) : 0;
      png.data[at + 2] = a ? Math.round(b / a) : 0;
      png.data[at + 3] = Math.round((255 * a) / samples);
    }
  }
  return PNG.sync.write(png);
}

export type TrayState = 'stopped' | 'listening' | 'active' | 'reconnecting' | 'error';
export type Theme = 'light' | 'dark';

const PALETTE: Record<Theme, Record<TrayState | 'mark' | 'edge', RGB>> = {
  // For a light taskbar: dark strokes and deep colours.
  light: {
    stopped: [90, 96, 107],
    listening: [21, 101, 192],
    active: [27, 128, 56],
    reconnecting: [178, 96, 0],
    error: [198, 40, 40],
    mark: [255, 255, 255],
    edge: [30, 30, 30],
  },
  // For a dark taskbar: light strokes and bright colours.
  dark: {
    stopped: [200, 204, 210],
    listening: [100, 181, 246],
    active: [95, 211, 127],
    reconnecting: [255, 196, 64],
    error: [255, 107, 107],
    mark: [20, 22, 26],
    edge: [240, 240, 240],
  },
};

export function trayLayers(state: TrayState, theme: Theme): Layer[] {
  const c = PALETTE[theme];
  switch (state) {
    case 'stopped':
      return [{ shape: ring(0.5, 0.5, 0.44, 0.27), color: c.stopped }];
    case 'listening':
      return [{ shape: disc(0.5, 0.5, 0.44), color: c.listening }];
    case 'active': {
      const up = union(triangle([0.34, 0.2], [0.16, 0.46], [0.52, 0.46]), rect(0.28, 0.44, 0.4, 0.78));
      const down = union(triangle([0.66, 0.8], [0.48, 0.54], [0.84, 0.54]), rect(0.6, 0.22, 0.72, 0.56));
      return [
        { shape: disc(0.5, 0.5, 0.47), color: c.active },
        { shape: union(up, down), color: c.mark },
      ];
    }
    case 'reconnecting': {
      // Three quarters of a thick ring, from 3 o'clock round to 12, and an arrowhead at 12 pointing on into the gap.
      const arc = withoutSector(ring(0.5, 0.5, 0.46, 0.22), 0.5, 0.5, -90, 0);
      const head = triangle([0.44, -0.04], [0.44, 0.38], [0.8, 0.17]);
      return [{ shape: union(arc, head), color: c.reconnecting }];
    }
    case 'error':
      return [
        { shape: triangle([0.5, 0.04], [0.02, 0.94], [0.98, 0.94]), color: c.error },
        { shape: union(rect(0.43, 0.3, 0.57, 0.64), rect(0.43, 0.72, 0.57, 0.85)), color: c.mark },
      ];
  }
}

function appLayers(): Layer[] {
  return [
    { shape: roundedSquare(0.04, 0.18), color: [11, 92, 173] },
    { shape: ring(0.5, 0.5, 0.34, 0.24), color: [255, 255, 255] },
    { shape: disc(0.5, 0.5, 0.12), color: [255, 255, 255] },
  ];
}

export const TRAY_ICO_SIZES = [16, 20, 24, 32];
export const APP_ICO_SIZES = [16, 20, 24, 32, 48, 64, 128, 256];

function main(): void {
  const assets = path.resolve(__dirname, '..', '..', 'assets');
  fs.mkdirSync(assets, { recursive: true });
  for (const theme of ['light', 'dark'] as Theme[]) {
    for (const state of ['stopped', 'listening', 'active', 'reconnecting', 'error'] as TrayState[]) {
      const layers = trayLayers(state, theme);
      const name = `tray-${state}-${theme}`;
      fs.writeFileSync(path.join(assets, `${name}.ico`), writeIco(TRAY_ICO_SIZES.map((size) => ({ size, png: render(size, layers) }))));
      // Electron picks name@2x.png on high-DPI screens when name.png is loaded.
      fs.writeFileSync(path.join(assets, `${name}.png`), render(16, layers));
      fs.writeFileSync(path.join(assets, `${name}@2x.png`), render(32, layers));
    }
  }
  const app = appLayers();
  fs.writeFileSync(path.join(assets, 'app.ico'), writeIco(APP_ICO_SIZES.map((size) => ({ size, png: render(size, app) }))));
  fs.writeFileSync(path.join(assets, 'app.png'), render(512, app));
  console.log(`icons written to ${assets}`);
}

if (require.main === module) main();
