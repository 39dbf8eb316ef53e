/**
 * The live connections: a summary line (tunnels, total rate), a chart of the
 * last minute, and a table with each tunnel's target, endpoint, bytes and
 * current rate up/down, duration, and how often it was resumed after a break
 * (a mark while it is being resumed). The rates come once a second from the
 * main process (`traffic:changed`); the rows when tunnels open, close, move,
 * break or resume.
 */
import type { TunnelInfo } from '../shared/ipc';
import { EMPTY_TRAFFIC, formatBytes, formatRate, type TrafficSnapshot } from '../shared/traffic';
import { h } from './dom';
import { formatDuration } from './format';
import { TrafficChart } from './trafficChart';

export class ConnectionsView {
  readonly element: HTMLElement;
  private readonly body = h('tbody');
  private readonly summary = h('p', { class: 'traffic-summary', id: 'traffic-summary', 'aria-live': 'off' });
  private readonly chart = new TrafficChart();
  private readonly scale = h('span', { class: 'chart-scale' });
  private rows: TunnelInfo[] = [];
  private traffic: TrafficSnapshot = EMPTY_TRAFFIC;

  constructor() {
    const table = h(
      'table',
      { class: 'connections', id: 'connections-table' },
      h('caption', {}, 'Open tunnels'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Target'),
          h('th', { scope: 'col' }, 'Endpoint'),
          h('th', { scope: 'col' }, 'Client'),
          h('th', { scope: 'col', class: 'num' }, 'Up'),
          h('th', { scope: 'col', class: 'num' }, 'Down'),
          h('th', { scope: 'col', class: 'num' }, 'Rate up'),
          h('th', { scope: 'col', class: 'num' }, 'Rate down'),
          h('th', { scope: 'col', class: 'num' }, 'Duration'),
          h('th', { scope: 'col', class: 'num', title: 'Times the tunnel was resumed after a break; — for one that cannot be' }, 'Resumes'),
        ),
      ),
      this.body,
    );
    const legend = h(
      'p',
      { class: 'chart-legend quiet' },
      h('span', { class: 'key key-up' }, 'up'),
      ' ',
      h('span', { class: 'key key-down' }, 'down'),
      ' — total rate, last minute; top of the chart: ',
      this.scale,
    );
    this.element = h('div', { class: 'connections-wrap' }, this.summary, h('figure', { class: 'traffic' }, this.chart.element, legend), table);
    this.render([]);
    this.renderTraffic(EMPTY_TRAFFIC);
    // Durations move on even when no bytes do.
    window.setInterval(() => this.render(this.rows), 1000);
  }

  renderTraffic(snapshot: TrafficSnapshot): void {
    this.traffic = snapshot;
    const n = snapshot.tunnels;
    this.summary.textContent = `${n} open tunnel${n === 1 ? '' : 's'} · total ↑ ${formatRate(snapshot.up)} ↓ ${formatRate(snapshot.down)}`;
    this.summary.dataset.up = String(Math.round(snapshot.up));
    this.summary.dataset.down = String(Math.round(snapshot.down));
    this.scale.textContent = formatRate(this.chart.render(snapshot.history));
    this.render(this.rows);
  }

  render(rows: TunnelInfo[]): void {
    this.rows = rows;
    const now = Date.now();
    const rates = new Map(this.traffic.perTunnel.map((r) => [r.id, r]));
    const trs = rows.map((r) => {
      const rate = rates.get(r.id);
      const mark = r.reconnecting ? h('span', { class: 'reconnecting-mark' }, 'reconnecting…') : null;
      return h(
        'tr',
        { 'data-id': r.id, class: r.reconnecting ? 'reconnecting' : undefined },
        h('td', { class: 'target' }, r.target, mark),
        h('td', {}, r.via),
        h('td', {}, r.client),
        h('td', { class: 'num up', title: `${r.up} bytes` }, formatBytes(r.up)),
        h('td', { class: 'num down', title: `${r.down} bytes` }, formatBytes(r.down)),
        h('td', { class: 'num rate-up', 'data-rate': Math.round(rate?.up ?? 0) }, formatRate(rate?.up ?? 0)),
        h('td', { class: 'num rate-down', 'data-rate': Math.round(rate?.down ?? 0) }, formatRate(rate?.down ?? 0)),
        h('td', { class: 'num' }, formatDuration(now - r.openedAt)),
        // A plain tunnel (resume off, or a server without it) cannot be resumed: a dash, not 0.
        h('td', { class: 'num resumes' }, r.resumes === undefined ? '—' : String(r.resumes)),
      );
    });
    if (trs.length === 0) trs.push(h('tr', { class: 'empty' }, h('td', { colspan: 9 }, 'No open tunnels. Point PuTTY at the proxy and connect.')));
    this.body.replaceChildren(...trs);
  }
}
