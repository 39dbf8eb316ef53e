/**
 * Status: the tunnel's state and address, the PuTTY settings to copy, the
 * saved PuTTY/KiTTY/WinSCP sessions to switch to the proxy (and back), the
 * "Export PuTTY session…" form, the listen address and the startup options.
 */
import type { PuttySettings, SettingsView, TunnelState, WsshApi } from '../shared/ipc';
import { STATUS_LABEL, listenText } from '../shared/tunnelStatus';
import { field, h } from './dom';
import { SavedSessionsPanel } from './savedSessionsPanel';

export class StatusView {
  readonly element: HTMLElement;
  private readonly stateValue = h('dd', { id: 'status-state' });
  private readonly reasonRow = h('div', { class: 'reason-row', hidden: true });
  private readonly listenValue = h('dd', { id: 'status-listen' });
  private readonly endpointValue = h('dd', { id: 'status-endpoint' });
  private readonly tunnelsValue = h('dd', { id: 'status-tunnels' });
  private readonly toggle = h('button', { type: 'button', class: 'primary', id: 'status-toggle' }, 'Start tunnel');
  private readonly putty = h('pre', { class: 'putty', id: 'putty-settings', tabindex: 0, 'aria-label': 'PuTTY proxy settings' });
  private readonly copyMessage = h('span', { class: 'quiet', 'aria-live': 'polite' });
  private readonly exportName = h('input', { type: 'text', autocomplete: 'off' });
  private readonly exportHost = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'db1.lan or db1.lan:2222' });
  private readonly exportResult = h('p', { class: 'export-result', 'aria-live': 'polite' });
  private readonly listenHost = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  private readonly listenPort = h('input', { type: 'number', min: 1, max: 65535, inputmode: 'numeric' });
  private readonly listenResult = h('p', { class: 'field-message', 'aria-live': 'polite' });
  private readonly startAtLaunch = h('input', { type: 'checkbox', id: 'opt-start-tunnel' });
  private readonly startAtLogin = h('input', { type: 'checkbox', id: 'opt-start-login' });
  private puttyText = '';
  private state: TunnelState | undefined;
  private readonly sessions: SavedSessionsPanel;

  constructor(
    private readonly api: WsshApi,
    private readonly announce: (text: string) => void,
  ) {
    this.sessions = new SavedSessionsPanel(api, announce);
    const copy = h('button', { type: 'button', onclick: () => void this.copy() }, 'Copy PuTTY settings');
    const name = field('export-name', 'Session name', this.exportName);
    const host = field('export-host', 'SSH host', this.exportHost);
    const exportForm = h(
      'form',
      { class: 'inline-form', onsubmit: (e: Event) => (e.preventDefault(), void this.exportSession()) },
      name.row,
      host.row,
      h('button', { type: 'submit' }, 'Export PuTTY session…'),
    );
    const lh = field('listen-host', 'Listen host', this.listenHost, 'Keep 127.0.0.1 so only this computer can use the proxy.');
    const lp = field('listen-port', 'Port', this.listenPort);
    const listenForm = h(
      'form',
      { class: 'inline-form', onsubmit: (e: Event) => (e.preventDefault(), void this.applyListen()) },
      lh.row,
      lp.row,
      h('button', { type: 'submit' }, 'Apply'),
    );
    this.element = h(
      'div',
      { class: 'status' },
      h(
        'section',
        { 'aria-labelledby': 'tunnel-title' },
        h('h2', { id: 'tunnel-title' }, 'Tunnel'),
        h(
          'dl',
          { class: 'facts' },
          h('div', {}, h('dt', {}, 'State'), this.stateValue),
          this.reasonRow,
          h('div', {}, h('dt', {}, 'Listen address'), this.listenValue),
          h('div', {}, h('dt', {}, 'Endpoint'), this.endpointValue),
          h('div', {}, h('dt', {}, 'Open tunnels'), this.tunnelsValue),
        ),
        this.toggle,
      ),
      h(
        'section',
        { 'aria-labelledby': 'putty-title' },
        h('h2', { id: 'putty-title' }, 'PuTTY'),
        h('p', {}, 'In PuTTY, under Connection › Proxy, use:'),
        this.putty,
        h('div', { class: 'buttons' }, copy, this.copyMessage),
        h('h3', {}, 'Export a PuTTY session'),
        h('p', { class: 'quiet' }, 'Writes a .reg file: open it to create a saved PuTTY session that goes through this app.'),
        exportForm,
        this.exportResult,
      ),
      this.sessions.element,
      h(
        'section',
        { 'aria-labelledby': 'options-title' },
        h('h2', { id: 'options-title' }, 'Options'),
        listenForm,
        this.listenResult,
        h('div', { class: 'check' }, this.startAtLaunch, h('label', { for: 'opt-start-tunnel' }, 'Start the tunnel when WSSH starts')),
        h('div', { class: 'check' }, this.startAtLogin, h('label', { for: 'opt-start-login' }, 'Start WSSH when I log in')),
      ),
    );
    this.toggle.addEventListener('click', () => void (this.state?.running ? this.api.stopTunnel() : this.api.startTunnel()));
    this.startAtLaunch.addEventListener('change', () => void this.api.updateSettings({ startTunnelAtLaunch: this.startAtLaunch.checked }));
    this.startAtLogin.addEventListener('change', () => void this.api.updateSettings({ startAtLogin: this.startAtLogin.checked }));
  }

  renderState(state: TunnelState): void {
    this.state = state;
    this.stateValue.textContent = STATUS_LABEL[state.status];
    this.stateValue.dataset.status = state.status;
    this.reasonRow.replaceChildren(h('dt', {}, 'Reason'), h('dd', { id: 'status-reason' }, state.reason ?? ''));
    // Where the setting that caused it is changed (a proxy that refused: its sign-in).
    if (state.fix) this.reasonRow.append(h('dt', {}, 'Fix it in'), h('dd', { id: 'status-fix' }, state.fix));
    this.reasonRow.hidden = state.reason === undefined;
    this.listenValue.textContent = listenText(state.listen);
    this.endpointValue.textContent = state.endpointName ? `${state.endpointName} (${state.endpointDisplay})` : 'none selected';
    this.tunnelsValue.textContent = String(state.openTunnels);
    this.toggle.textContent = state.running ? 'Stop tunnel' : 'Start tunnel';
  }

  renderSettings(settings: SettingsView, putty: PuttySettings): void {
    if (document.activeElement !== this.listenHost && document.activeElement !== this.listenPort) {
      this.listenHost.value = settings.listen.host;
      this.listenPort.value = String(settings.listen.port);
    }
    this.startAtLaunch.checked = settings.startTunnelAtLaunch;
    this.startAtLogin.checked = settings.startAtLogin;
    this.puttyText = putty.text;
    this.putty.textContent = putty.text;
    // Which sessions count as "through this app" depends on the port.
    void this.sessions.refresh();
  }

  private async copy(): Promise<void> {
    await this.api.copyText(this.puttyText);
    this.copyMessage.textContent = 'Copied.';
    this.announce('PuTTY settings copied.');
  }

  private async exportSession(): Promise<void> {
    const result = await this.api.exportPuttySession({ sessionName: this.exportName.value, target: this.exportHost.value });
    this.exportResult.className = `export-result ${result.status}`;
    this.exportResult.textContent =
      result.status === 'saved'
        ? `Saved ${result.path}. Open it to add the session to PuTTY.`
        : result.status === 'canceled'
          ? 'Not saved.'
          : `Not exported: ${result.reason}`;
  }

  private async applyListen(): Promise<void> {
    const outcome = await this.api.updateSettings({ listen: { host: this.listenHost.value, port: Number(this.listenPort.value) } });
    this.listenResult.textContent = outcome.ok ? 'Saved.' : outcome.error;
  }
}
