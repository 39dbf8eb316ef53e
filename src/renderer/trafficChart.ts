/**
 * The last minute of the total rate, up and down, as an inline SVG: two
 * lines on a time axis of 60 s, scaled to the largest rate shown. Drawn with
 * SVG attributes and the stylesheet's classes only (the page's CSP allows
 * no inline style or script).
 */
import { TRAFFIC_HISTORY_SECONDS, formatRate, type TrafficSample } from '../shared/traffic';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 120;
const PAD_TOP = 4;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

export class TrafficChart {
  readonly element: SVGSVGElement;
  private readonly upLine = svg('polyline', { class: 'rate-up', fill: 'none' });
  private readonly downLine = svg('polyline', { class: 'rate-down', fill: 'none' });
  private readonly title = svg('title');

  constructor() {
    this.element = svg('svg', {
      class: 'traffic-chart',
      id: 'traffic-chart',
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': 'Total rate over the last minute',
    });
    const frame = svg('rect', { class: 'chart-frame', x: 0.5, y: 0.5, width: WIDTH - 1, height: HEIGHT - 1, fill: 'none' });
    const mid = svg('line', { class: 'chart-grid', x1: 0, x2: WIDTH, y1: PAD_TOP + (HEIGHT - PAD_TOP) / 2, y2: PAD_TOP + (HEIGHT - PAD_TOP) / 2 });
    this.element.append(this.title, frame, mid, this.downLine, this.upLine);
    this.render([]);
  }

  /** Draws `history`; returns the rate at the top of the chart. */
  render(history: TrafficSample[]): number {
    const max = niceCeiling(Math.max(1024, ...history.map((s) => Math.max(s.up, s.down))));
    const now = history.length > 0 ? history[history.length - 1].at : 0;
    const x = (at: number) => WIDTH - ((now - at) / 1000 / TRAFFIC_HISTORY_SECONDS) * WIDTH;
    const y = (rate: number) => HEIGHT - 1 - (rate / max) * (HEIGHT - PAD_TOP - 2);
    const points = (pick: (s: TrafficSample) => number) => history.map((s) => `${x(s.at).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ');
    this.upLine.setAttribute(
      'points',
      points((s) => s.up),
    );
    this.downLine.setAttribute(
      'points',
      points((s) => s.down),
    );
    this.element.dataset.samples = String(history.length);
    this.title.textContent = `Total rate over the last minute (${history.length} samples, up to ${formatRate(max)})`;
    return max;
  }
}

/** The next of 1, 2, 5 × 1024^k at or above `n`: a round number at the top of the chart. */
function niceCeiling(n: number): number {
  let unit = 1;
  while (n > unit * 1024) unit *= 1024;
  for (const step of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1024]) if (step * unit >= n) return step * unit;
  return n;
}
