/**
 * The Status view's "Saved sessions": the PuTTY, KiTTY and WinSCP sessions
 * saved on this computer, which of them go through this app's proxy, and a
 * button per session to switch it to the proxy or back. Nothing is written
 * until the user clicks.
 */
import type { WsshApi } from '../shared/ipc';
import type { SavedSession, SavedSessionsView } from '../shared/sessions';
import { h } from './dom';
import { latestOnly } from './latestOnly';

const ROUTE_CLASS: Record<SavedSession['route'], string> = { ours: 'route-ours', 'other-proxy': 'route-other', direct: 'route-direct' };

export class SavedSessionsPanel {
  readonly element: HTMLElement;
  private readonly lists = h('div', { class: 'session-lists', id: 'saved-sessions' });
  private readonly result = h('p', { class: 'session-result', id: 'session-result', 'aria-live': 'polite' });
  private busy = false;
  /** reg.exe answers in its own time: an older list must not paint over a newer one. */
  private readonly newest = latestOnly();

  constructor(
    private readonly api: WsshApi,
    private readonly announce: (text: string) => void,
  ) {
    const refresh = h('button', { type: 'button', id: 'sessions-refresh', onclick: () => void this.refresh() }, 'Refresh');
    this.element = h(
      'section',
      { 'aria-labelledby': 'sessions-title' },
      h('h2', { id: 'sessions-title' }, 'Saved sessions'),
      h(
        'p',
        { class: 'quiet' },
        'The PuTTY, KiTTY and WinSCP sessions saved on this computer. ' +
          '"Use this proxy" changes only the session\'s proxy settings; "Switch back" puts back the ones it had.',
      ),
      h('div', { class: 'buttons' }, refresh),
      this.lists,
      this.result,
    );
  }

  async refresh(): Promise<void> {
    await this.newest(
      () => this.api.listSavedSessions(),
      (view) => this.render(view),
    );
  }

  private render(view: SavedSessionsView): void {
    const problem = view.problem
      ? h('p', { class: 'quiet', id: 'sessions-problem' }, `${view.clients.length === 0 ? 'No saved sessions: ' : ''}${view.problem}.`)
      : null;
    if (view.clients.length === 0 && problem) {
      this.lists.replaceChildren(problem);
      return;
    }
    if (view.clients.length === 0) {
      this.lists.replaceChildren(h('p', { class: 'quiet', id: 'sessions-none' }, 'Neither PuTTY, KiTTY nor WinSCP has saved sessions on this computer.'));
      return;
    }
    this.lists.replaceChildren(
      ...view.clients.map((client) =>
        h(
          'table',
          { class: 'sessions', 'data-client': client.client },
          h('caption', {}, client.label),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Session'),
              h('th', { scope: 'col' }, 'Host'),
              h('th', { scope: 'col' }, 'Goes through'),
              h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Action')),
            ),
          ),
          h(
            'tbody',
            {},
            ...(client.sessions.length === 0
              ? [h('tr', { class: 'empty' }, h('td', { colspan: 4 }, 'No saved sessions.'))]
              : client.sessions.map((s) => this.row(client.label, s))),
          ),
        ),
      ),
    );
    if (problem) this.lists.append(problem);
  }

  private row(label: string, session: SavedSession): HTMLElement {
    let action: HTMLElement;
    if (session.switchedByApp) {
      action = h('button', { type: 'button', class: 'switch-back', onclick: () => void this.act(label, session, 'back') }, 'Switch back');
    } else if (session.route !== 'ours') {
      action = h('button', { type: 'button', class: 'switch-to-app', onclick: () => void this.act(label, session, 'to-app') }, 'Use this proxy');
    } else {
      action = h('span', { class: 'quiet' }, 'already set');
    }
    action.setAttribute('aria-label', `${action.textContent}: ${label} session ${session.name}`);
    return h(
      'tr',
      { 'data-key': session.key },
      h('td', { class: 'session-name' }, session.name),
      h('td', {}, session.host),
      h('td', { class: `route ${ROUTE_CLASS[session.route]}` }, session.routeText),
      h('td', {}, action),
    );
  }

  private async act(label: string, session: SavedSession, what: 'to-app' | 'back'): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const ref = { client: session.client, key: session.key };
      const outcome = what === 'to-app' ? await this.api.switchSession(ref) : await this.api.switchSessionBack(ref);
      const text = outcome.ok
        ? what === 'to-app'
          ? `${label} session "${session.name}" now goes through this app's proxy.`
          : `${label} session "${session.name}" has its own proxy settings back.`
        : `Not changed: ${outcome.error}.`;
      this.result.className = `session-result ${outcome.ok ? 'ok' : 'failed'}`;
      this.result.textContent = text;
      this.announce(text);
      await this.refresh();
    } finally {
      this.busy = false;
    }
  }
}
