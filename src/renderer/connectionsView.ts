/** The live connections table: target, endpoint, bytes up/down, duration. */
import type { TunnelInfo } from '../shared/ipc';
import { h } from './dom';
import { formatBytes, formatDuration } from './format';

export class ConnectionsView {
  readonly element: HTMLElement;
  private readonly body = h('tbody');
  private rows: TunnelInfo[] = [];

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
          h('th', { scope: 'col', class: 'num' }, 'Duration'),
        ),
      ),
      this.body,
    );
    this.element = h('div', { class: 'connections-wrap' }, table);
    this.render([]);
    // Durations move on even when no bytes do.
    window.setInterval(() => this.render(this.rows), 1000);
  }

  render(rows: TunnelInfo[]): void {
    this.rows = rows;
    const now = Date.now();
    const trs = rows.map((r) =>
      h(
        'tr',
        { 'data-id': r.id },
        h('td', { class: 'target' }, r.target),
        h('td', {}, r.via),
        h('td', {}, r.client),
        h('td', { class: 'num up', title: `${r.up} bytes` }, formatBytes(r.up)),
        h('td', { class: 'num down', title: `${r.down} bytes` }, formatBytes(r.down)),
        h('td', { class: 'num' }, formatDuration(now - r.openedAt)),
      ),
    );
    if (trs.length === 0) trs.push(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'No open tunnels. Point PuTTY at the proxy and connect.')));
    this.body.replaceChildren(...trs);
  }
}
