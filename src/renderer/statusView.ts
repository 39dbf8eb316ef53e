/**
 * Status: the tunnel's state and address, the PuTTY settings to copy, the
 * saved PuTTY/KiTTY/WinSCP sessions to switch to the proxy (and back), the
 * "Export PuTTY session…" form, the listen address and the startup options.
 */
import type { LocalProxyAuthMode, LocalProxyAuthView, PuttySettings, SettingsView, TunnelState, WsshApi } from '../shared/ipc';
import { capitalize } from '../shared/sentence';
import { listenText, openTunnelsField, statusField } from '../shared/tunnelStatus';
import { field, h } from './dom';
import { SavedSessionsPanel } from './savedSessionsPanel';
import { DiagnosisList, saveDiagnosticsButton } from './diagnosisList';

/** Shown before a new proxy sign-in password is made. */
const RENEW_WARNING =
  'The tunnel restarts, so open connections close, and clients that sign in with the current password are refused until they have the new one. ' +
  'Saved PuTTY, KiTTY and WinSCP sessions that use it get the new one.';
/** Why the local proxy sign-in, and what Automatic does not see (issue 24). */
const SIGN_IN_WHY =
  'On a computer other people use too, any account could otherwise tunnel through this proxy with your endpoint and its credentials. ' +
  'Automatic turns it on in a Remote Desktop session only; choose On if anyone else signs in to this computer.';
/** Under the proxy sign-in's facts: where PuTTY takes them. */
const PUTTY_SIGN_IN =
  'In PuTTY, under Connection › Proxy, enter this Username and Password (proxy type HTTP or SOCKS 5). ' +
  'The copied settings and the exported session include them.';

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
  private readonly authMode = h(
    'select',
    { id: 'proxy-auth-mode' },
    h('option', { value: 'auto' }, 'Automatic (on in a Remote Desktop session only)'),
    h('option', { value: 'on' }, 'On'),
    h('option', { value: 'off' }, 'Off'),
  ) as HTMLSelectElement;
  private readonly authWhy = h('p', { id: 'proxy-auth-why', class: 'quiet' });
  private readonly authFacts = h('dl', { class: 'facts', id: 'proxy-auth-facts' });
  private readonly authPassword = h('dd', { id: 'proxy-auth-password' }, '••••••••');
  private readonly authMessage = h('span', { class: 'quiet', 'aria-live': 'polite' });
  private readonly authOn = h('div', { id: 'proxy-auth-on' });
  private readonly renewConfirm = h('div', { id: 'proxy-auth-renew-confirm', role: 'group', 'aria-label': 'Make a new password', hidden: true });
  private readonly renewButton = h('button', { type: 'button', id: 'proxy-auth-renew' }, 'New password…');
  private puttyText = '';
  private state: TunnelState | undefined;
  private readonly sessions: SavedSessionsPanel;
  private diagnosis!: DiagnosisList;
  private readonly diagnoseTarget = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'db1.lan or db1.lan:2222' });

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
      this.diagnoseSection(),
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
      this.signInSection(),
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
    this.authMode.addEventListener('change', () => void this.api.updateSettings({ localProxyAuth: this.authMode.value as LocalProxyAuthMode }));
    this.startAtLaunch.addEventListener('change', () => void this.api.updateSettings({ startTunnelAtLaunch: this.startAtLaunch.checked }));
    this.startAtLogin.addEventListener('change', () => void this.api.updateSettings({ startAtLogin: this.startAtLogin.checked }));
  }

  /** Diagnose: the path through the active endpoint to a host, step by step. */
  private diagnoseSection(): HTMLElement {
    this.diagnosis = new DiagnosisList(this.api, 'status-diagnosis');
    const target = field('status-diagnose-target', 'SSH host to diagnose', this.diagnoseTarget);
    const button = h('button', { type: 'submit', id: 'status-diagnose' }, 'Diagnose');
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (e: Event) => {
          e.preventDefault();
          button.disabled = true;
          void this.diagnosis.diagnose({ target: this.diagnoseTarget.value }).finally(() => (button.disabled = false));
        },
      },
      target.row,
      button,
    );
    return h(
      'section',
      { 'aria-labelledby': 'diagnose-title' },
      h('h2', { id: 'diagnose-title' }, 'Diagnose'),
      h('p', { class: 'quiet' }, 'Walks the way to an SSH host through the active endpoint, step by step, and says where it breaks and how to fix it.'),
      form,
      this.diagnosis.element,
      h('div', { class: 'buttons' }, saveDiagnosticsButton(this.api, 'status-save-diagnostics')),
    );
  }

  /** The local proxy sign-in: the setting, why it is on or off, and the credential with what can be done with it. */
  private signInSection(): HTMLElement {
    const auth = field('proxy-auth-mode', 'Clients must sign in', this.authMode);
    const reveal = h('button', { type: 'button', id: 'proxy-auth-reveal', onclick: () => void this.revealPassword() }, 'Reveal password');
    const copyPassword = h('button', { type: 'button', id: 'proxy-auth-copy', onclick: () => void this.copyPassword() }, 'Copy password');
    // A password seen or copied where it should not have been: replaced after a confirmation, since every client must then be given the new one.
    const make = h('button', { type: 'button', onclick: () => void this.renewPassword() }, 'Make a new password');
    const showRenew = (shown: boolean) => {
      this.renewConfirm.hidden = !shown;
      (shown ? make : this.renewButton).focus();
    };
    this.renewButton.addEventListener('click', () => showRenew(true));
    this.renewConfirm.append(
      h('p', {}, RENEW_WARNING),
      h('div', { class: 'buttons' }, make, h('button', { type: 'button', onclick: () => showRenew(false) }, 'Cancel')),
    );
    this.authOn.append(
      this.authFacts,
      h('div', { class: 'buttons' }, reveal, copyPassword, this.renewButton, this.authMessage),
      this.renewConfirm,
      h('p', { class: 'quiet' }, PUTTY_SIGN_IN),
    );
    return h(
      'section',
      { 'aria-labelledby': 'proxy-auth-title' },
      h('h2', { id: 'proxy-auth-title' }, 'Local proxy sign-in'),
      h('p', { class: 'quiet' }, SIGN_IN_WHY),
      auth.row,
      this.authWhy,
      this.authOn,
    );
  }

  renderState(state: TunnelState): void {
    this.state = state;
    this.stateValue.textContent = statusField(state);
    this.stateValue.dataset.status = state.status;
    this.reasonRow.replaceChildren(h('dt', {}, 'Reason'), h('dd', { id: 'status-reason' }, state.reason ?? ''));
    // Where the setting that caused it is changed (a proxy that refused: its sign-in).
    if (state.fix) this.reasonRow.append(h('dt', {}, 'Fix it in'), h('dd', { id: 'status-fix' }, state.fix));
    this.reasonRow.hidden = state.reason === undefined;
    this.listenValue.textContent = listenText(state.listen);
    this.endpointValue.textContent = state.endpointName ? `${state.endpointName} (${state.endpointDisplay})` : 'none selected';
    this.tunnelsValue.textContent = openTunnelsField(state);
    this.toggle.textContent = state.running ? 'Stop tunnel' : 'Start tunnel';
  }

  renderSettings(settings: SettingsView, putty: PuttySettings, auth: LocalProxyAuthView): void {
    this.authMode.value = auth.mode;
    // The why says on or off itself ("on automatically: …", "turned off in the settings: …").
    this.authWhy.textContent = `${capitalize(auth.why)}.`;
    this.authOn.hidden = !auth.on;
    this.authPassword.textContent = '••••••••';
    this.authFacts.replaceChildren(
      h('div', {}, h('dt', {}, 'Username'), h('dd', { id: 'proxy-auth-user' }, auth.user ?? '')),
      h('div', {}, h('dt', {}, 'Password'), this.authPassword),
    );
    if (document.activeElement !== this.listenHost && document.activeElement !== this.listenPort) {
      this.listenHost.value = settings.listen.host;
      this.listenPort.value = String(settings.listen.port);
    }
    this.startAtLaunch.checked = settings.startTunnelAtLaunch;
    this.startAtLogin.checked = settings.startAtLogin;
    this.puttyText = putty.text;
    // The password goes to the clipboard, not on the screen.
    this.putty.textContent = putty.masked ?? putty.text;
    // Which sessions count as "through this app" depends on the port.
    void this.sessions.refresh();
  }

  private async revealPassword(): Promise<void> {
    const outcome = await this.api.revealLocalProxyPassword();
    if (outcome.ok) this.authPassword.textContent = outcome.value;
    else this.authMessage.textContent = outcome.error;
  }

  private async copyPassword(): Promise<void> {
    const outcome = await this.api.revealLocalProxyPassword();
    if (!outcome.ok) {
      this.authMessage.textContent = outcome.error;
      return;
    }
    await this.api.copyText(outcome.value);
    this.authMessage.textContent = 'Password copied.';
    this.announce('Proxy password copied.');
  }

  private async renewPassword(): Promise<void> {
    this.renewConfirm.hidden = true;
    this.renewButton.focus();
    let outcome;
    try {
      outcome = await this.api.renewLocalProxyPassword();
    } catch (err) {
      this.authMessage.textContent = `No new password: ${(err as Error).message}`;
      return;
    }
    if (!outcome.ok) {
      this.authMessage.textContent = outcome.error;
      return;
    }
    this.authPassword.textContent = '••••••••';
    const { updated, problem } = outcome.value;
    const sessions = updated.length > 0 ? ` ${updated.join(', ')} ${updated.length === 1 ? 'has' : 'have'} it.` : '';
    this.authMessage.textContent = `New password made.${sessions} Give it to every other client that signs in.${problem ? ` ${problem}.` : ''}`;
    this.announce('New proxy password made.');
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
