/**
 * The endpoint list and editor: add, edit, duplicate, delete (with Undo),
 * choose the active one, and "Test" a path to an SSH host. The URI is
 * checked as it is typed by the core's own parser, so the message here is the
 * one the tunnel would give.
 */
import { EndpointError, parseEndpoint } from '../shared/endpoint';
import type { AdvancedProblems, EndpointInput, EndpointTrust, EndpointView, PickFileRequest, ProxyAuthSetting, ProxySetting, SettingsView, WsshApi } from '../shared/ipc';
import { DEFAULT_KEEPALIVE_SEC, MAX_KEEPALIVE_SEC } from '../shared/defaults';
import { EDITOR_LABELS as L } from '../shared/editorLabels';
import { capitalize } from '../shared/sentence';
import { append, clear, field, h } from './dom';

export class EndpointsView {
  readonly element: HTMLElement;
  private settings: SettingsView | undefined;
  /** The endpoint in the editor; null for a new one. */
  private selectedId: string | null = null;
  private dirty = false;
  private readonly list = h('ul', { class: 'endpoint-list', 'aria-label': 'Saved endpoints' });
  private readonly form = h('form', { class: 'editor', novalidate: true, 'aria-labelledby': 'editor-title' });
  private readonly editorTitle = h('h2', { id: 'editor-title' }, 'New endpoint');
  private readonly name = h('input', { type: 'text', autocomplete: 'off', maxlength: 200, required: true });
  private readonly uri = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'wss://gw.example.com/ssh', required: true });
  private readonly user = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  private readonly secret = h('input', { type: 'password', autocomplete: 'new-password' });
  private secretMessage!: HTMLElement;
  private readonly removeSecret = h('input', { type: 'checkbox', id: 'ep-remove-secret' });
  private readonly removeSecretRow = h('div', { class: 'check', hidden: true }, this.removeSecret, h('label', { for: 'ep-remove-secret' }, 'Remove the stored secret'));
  private readonly keepalive = h('input', { type: 'number', min: 0, max: MAX_KEEPALIVE_SEC, step: 1, inputmode: 'numeric' });
  private readonly messages: Record<'name' | 'uri' | 'user' | 'keepalive', HTMLElement>;
  // Advanced: proxy and TLS trust.
  private readonly advanced = h('details', { class: 'advanced' });
  private readonly proxySystem = h('input', { type: 'radio', name: 'ep-proxy', id: 'ep-proxy-system', value: 'system' });
  private readonly proxyNone = h('input', { type: 'radio', name: 'ep-proxy', id: 'ep-proxy-none', value: 'none' });
  private readonly proxyCustom = h('input', { type: 'radio', name: 'ep-proxy', id: 'ep-proxy-custom', value: 'custom' });
  private readonly proxyUrl = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'http://proxy.example.com:3128' });
  private readonly caFile = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'C:\\certs\\company-ca.pem' });
  private readonly systemCa = h('input', { type: 'checkbox', id: 'ep-system-ca' });
  private readonly pins = h('textarea', { class: 'pins', rows: 4, spellcheck: 'false', autocomplete: 'off', placeholder: 'sha256/BASE64= or AB:CD:…' });
  private readonly pinOnly = h('input', { type: 'checkbox', id: 'ep-pin-only' });
  private readonly servername = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'gw.example.com' });
  // Proxy sign-in: the Windows sign-in (default) or a user and password.
  private readonly authWindows = h('input', { type: 'radio', name: 'ep-proxy-auth', id: 'ep-proxy-auth-windows', value: 'windows' });
  private readonly authPassword = h('input', { type: 'radio', name: 'ep-proxy-auth', id: 'ep-proxy-auth-password', value: 'password' });
  private readonly proxyUser = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'CORP\\alice' });
  private readonly proxySecret = h('input', { type: 'password', autocomplete: 'new-password' });
  // Client certificate: PEM certificate and key, or one PKCS#12 file and its passphrase.
  private readonly clientCert = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'C:\\certs\\alice.crt' });
  private readonly clientKey = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'C:\\certs\\alice.key' });
  private readonly clientPfx = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'C:\\certs\\alice.pfx' });
  private readonly clientPassphrase = h('input', { type: 'password', autocomplete: 'new-password' });
  private readonly advancedMessages: Record<keyof AdvancedProblems, HTMLElement>;
  private advancedSeq = 0;
  private readonly formError = h('p', { class: 'form-error', role: 'alert' });
  private readonly saveButton = h('button', { type: 'submit', class: 'primary' }, 'Save');
  private readonly duplicateButton = h('button', { type: 'button' }, 'Duplicate');
  private readonly deleteButton = h('button', { type: 'button', class: 'danger' }, 'Delete');
  private readonly useButton = h('button', { type: 'button' }, 'Use for the tunnel');
  private readonly undoBar = h('div', { class: 'undo-bar', role: 'status', hidden: true });
  private readonly testTarget = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'db1.lan or db1.lan:2222' });
  private readonly testButton = h('button', { type: 'button' }, 'Test');
  private readonly testResult = h('div', { class: 'test-result', 'aria-live': 'polite' });
  private undoTimer: number | undefined;

  constructor(
    private readonly api: WsshApi,
    private readonly announce: (text: string) => void,
  ) {
    const name = field('ep-name', 'Name', this.name);
    const uri = field('ep-uri', 'Endpoint URI', this.uri, 'ws:// or wss:// and the path of the WSSH server, e.g. wss://gw.example.com/ssh');
    const user = field('ep-user', 'User (optional)', this.user, 'Sent as HTTP Basic authentication when the server asks for it.');
    const secret = field('ep-secret', 'Secret (optional)', this.secret, 'Stored encrypted with your Windows account; never shown again.');
    const keepalive = field('ep-keepalive', 'Keepalive (seconds)', this.keepalive, 'A ping this often keeps idle sessions open through proxies; 0 turns it off.');
    this.messages = { name: name.message, uri: uri.message, user: user.message, keepalive: keepalive.message };
    this.secretMessage = secret.message;
    const proxyUrl = field('ep-proxy-url', L.proxyUrl, this.proxyUrl, 'For Custom: http://[user:password@]host:port.');
    const caFile = field('ep-ca-file', `${L.caFile} (optional)`, this.caFile, 'A PEM file of CA certificates to trust too, e.g. your company’s CA.');
    const pins = field('ep-pins', `${L.pins} (one per line)`, this.pins, 'sha256 fingerprints of the server’s certificate; one must match.');
    const servername = field('ep-servername', L.servername, this.servername, 'Sent in TLS and checked in the certificate instead of the endpoint’s host.');
    const pinOnlyMessage = h('p', { class: 'field-message', id: 'ep-pin-only-message', 'aria-live': 'polite' });
    this.pinOnly.setAttribute('aria-describedby', 'ep-pin-only-message');
    const proxyUser = field('ep-proxy-user', 'Proxy user', this.proxyUser, 'DOMAIN\\user for NTLM, or the user the proxy knows.');
    const proxySecret = field('ep-proxy-secret', 'Proxy password', this.proxySecret, 'Stored encrypted with your Windows account; never shown again.');
    const clientCertHelp = 'For a gateway that asks for a certificate, with its key file.';
    const clientCert = field('ep-client-cert', `${L.clientCertificate} (PEM)`, this.clientCert, clientCertHelp);
    const clientKey = field('ep-client-key', 'Its key (PEM)', this.clientKey);
    const clientPfx = field('ep-client-pfx', 'Or a PKCS#12 file (.pfx, .p12)', this.clientPfx);
    const clientPassphrase = field('ep-client-passphrase', L.clientPassphrase, this.clientPassphrase, 'Stored encrypted with your Windows account.');
    this.advancedMessages = {
      proxyUrl: proxyUrl.message,
      caFile: caFile.message,
      pins: pins.message,
      pinOnly: pinOnlyMessage,
      servername: servername.message,
      proxyUser: proxyUser.message,
      clientCert: clientCert.message,
    };
    const radio = (input: HTMLInputElement, label: string) => h('label', { for: input.id }, input, label);
    // A file picker beside a path field, through the preload API (the page cannot open files itself).
    const browse = (input: HTMLInputElement, request: PickFileRequest) =>
      h('button', {
        type: 'button',
        class: 'browse',
        'aria-label': `Browse for ${request.title}`,
        onclick: () =>
          void this.api.pickFile(request).then((file) => {
            if (file === null) return;
            input.value = file;
            this.advancedChanged();
          }),
      }, 'Browse…');
    const withBrowse = (row: HTMLElement, input: HTMLInputElement, request: PickFileRequest) => {
      row.insertBefore(h('div', { class: 'inline' }, input, browse(input, request)), row.querySelector('.field-help, .field-message'));
      return row;
    };
    this.advanced.append(
      h('summary', {}, `${L.advanced}: proxy, sign-in, TLS trust, client certificate`),
      h(
        'fieldset',
        { class: 'proxy' },
        h('legend', {}, L.proxy),
        h('div', { class: 'radios' }, radio(this.proxySystem, 'System'), radio(this.proxyNone, L.proxyNone), radio(this.proxyCustom, L.proxyCustom)),
      ),
      proxyUrl.row,
      h(
        'fieldset',
        { class: 'proxy-auth' },
        h('legend', {}, L.proxySignIn),
        h('div', { class: 'radios' }, radio(this.authWindows, 'Use my Windows sign-in'), radio(this.authPassword, 'User and password')),
        h('div', { class: 'field-pair' }, proxyUser.row, proxySecret.row),
      ),
      caFile.row,
      h('div', { class: 'check' }, this.systemCa, h('label', { for: 'ep-system-ca' }, L.systemCa)),
      pins.row,
      h(
        'div',
        { class: 'check' },
        this.pinOnly,
        h('label', { for: 'ep-pin-only' }, `${L.pinOnly} (accept a self-signed certificate whose fingerprint is pinned)`),
      ),
      pinOnlyMessage,
      servername.row,
      h(
        'fieldset',
        { class: 'client-cert' },
        h('legend', {}, L.clientCertificate),
        withBrowse(clientCert.row, this.clientCert, { title: 'the client certificate', kind: 'certificate' }),
        withBrowse(clientKey.row, this.clientKey, { title: 'its key', kind: 'key' }),
        withBrowse(clientPfx.row, this.clientPfx, { title: 'the PKCS#12 file', kind: 'pfx' }),
        clientPassphrase.row,
      ),
    );

    const addButton = h('button', { type: 'button', class: 'primary', onclick: () => this.edit(null) }, 'Add endpoint');
    const testField = field('ep-test-target', 'SSH host to reach', this.testTarget);
    this.form.append(
      this.editorTitle,
      name.row,
      uri.row,
      h('div', { class: 'field-pair' }, user.row, h('div', {}, secret.row, this.removeSecretRow)),
      keepalive.row,
      this.advanced,
      this.formError,
      h('div', { class: 'buttons' }, this.saveButton, this.useButton, this.duplicateButton, this.deleteButton),
      h('fieldset', { class: 'test' }, h('legend', {}, 'Test this endpoint'), h('div', { class: 'inline' }, testField.row, this.testButton), this.testResult),
    );
    this.element = h(
      'div',
      { class: 'endpoints' },
      h('div', { class: 'endpoint-side' }, h('h2', {}, L.endpoints), this.list, addButton, this.undoBar),
      this.form,
    );

    this.name.addEventListener('input', () => this.changed());
    this.uri.addEventListener('input', () => this.changed());
    this.user.addEventListener('input', () => this.changed());
    this.secret.addEventListener('input', () => this.changed());
    this.keepalive.addEventListener('input', () => this.changed());
    for (const control of [this.proxySystem, this.proxyNone, this.proxyCustom, this.systemCa, this.pinOnly, this.authWindows, this.authPassword]) {
      control.addEventListener('change', () => this.advancedChanged());
    }
    for (const control of [this.proxyUrl, this.caFile, this.pins, this.servername, this.proxyUser, this.proxySecret, this.clientCert, this.clientKey, this.clientPfx, this.clientPassphrase]) {
      control.addEventListener('input', () => this.advancedChanged());
    }
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
    this.duplicateButton.addEventListener('click', () => void this.duplicate());
    this.deleteButton.addEventListener('click', () => void this.remove());
    this.useButton.addEventListener('click', () => void this.use());
    this.testButton.addEventListener('click', () => void this.test());
    this.testTarget.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        void this.test();
      }
    });
  }

  render(settings: SettingsView): void {
    this.settings = settings;
    if (this.selectedId !== null && !settings.endpoints.some((e) => e.id === this.selectedId)) {
      this.selectedId = settings.endpoints[0]?.id ?? null;
      this.dirty = false;
    }
    if (this.selectedId === null && !this.dirty && settings.endpoints.length > 0 && !this.form.dataset.mode) {
      this.selectedId = settings.activeEndpointId ?? settings.endpoints[0].id;
    }
    this.renderList();
    if (!this.dirty) this.fillForm();
  }

  /** Opens an endpoint in the editor, or a blank one for `null`. */
  edit(id: string | null): void {
    this.selectedId = id;
    this.dirty = false;
    this.form.dataset.mode = id === null ? 'new' : 'edit';
    this.renderList();
    this.fillForm();
    this.name.focus();
  }

  private current(): EndpointView | undefined {
    return this.settings?.endpoints.find((e) => e.id === this.selectedId);
  }

  private renderList(): void {
    const settings = this.settings;
    if (!settings) return;
    clear(this.list);
    if (settings.endpoints.length === 0) this.list.append(h('li', { class: 'empty' }, 'No endpoints yet.'));
    for (const e of settings.endpoints) {
      const active = e.id === settings.activeEndpointId;
      const button = h(
        'button',
        { type: 'button', class: 'endpoint-item', 'aria-current': e.id === this.selectedId ? 'true' : undefined, 'data-id': e.id, onclick: () => this.edit(e.id) },
        h('span', { class: 'endpoint-name' }, e.name),
        active ? h('span', { class: 'badge' }, 'active') : null,
        h('span', { class: 'endpoint-uri' }, e.uri),
      );
      this.list.append(h('li', {}, button));
    }
  }

  private fillForm(): void {
    const e = this.current();
    this.editorTitle.textContent = e ? `Edit “${e.name}”` : 'New endpoint';
    this.name.value = e?.name ?? '';
    this.uri.value = e?.uri ?? '';
    this.user.value = e?.user ?? '';
    this.secret.value = '';
    this.secret.placeholder = e?.hasSecret ? 'stored (type to replace)' : '';
    this.removeSecret.checked = false;
    this.removeSecretRow.hidden = !e?.hasSecret;
    this.secretMessage.textContent = '';
    this.keepalive.value = String(e?.keepaliveSec ?? DEFAULT_KEEPALIVE_SEC);
    const proxy: ProxySetting = e?.proxy ?? 'system';
    const trust: EndpointTrust = e?.trust ?? {};
    this.proxySystem.checked = proxy === 'system';
    this.proxyNone.checked = proxy === 'none';
    this.proxyCustom.checked = typeof proxy === 'object';
    this.proxyUrl.value = typeof proxy === 'object' ? proxy.url : '';
    this.proxyUrl.disabled = typeof proxy !== 'object';
    this.caFile.value = trust.caFile ?? '';
    this.systemCa.checked = trust.systemCa === true;
    this.pins.value = (trust.pins ?? []).join('\n');
    this.pinOnly.checked = trust.pinOnly === true;
    this.servername.value = trust.servername ?? '';
    const auth: ProxyAuthSetting = e?.proxyAuth ?? { mode: 'windows' };
    this.authWindows.checked = auth.mode === 'windows';
    this.authPassword.checked = auth.mode === 'password';
    this.proxyUser.value = auth.mode === 'password' ? auth.user : '';
    this.proxySecret.value = '';
    this.proxySecret.placeholder = e?.hasProxySecret ? 'stored (type to replace)' : '';
    this.clientCert.value = trust.clientCert ?? '';
    this.clientKey.value = trust.clientKey ?? '';
    this.clientPfx.value = trust.clientPfx ?? '';
    this.clientPassphrase.value = '';
    this.clientPassphrase.placeholder = e?.hasClientPassphrase ? 'stored (type to replace)' : '';
    this.enableAdvanced();
    // Open when something in it is set, so it is never hidden that it is.
    this.advanced.open = proxy !== 'system' || Object.keys(trust).length > 0 || auth.mode !== 'windows';
    this.showAdvanced({});
    this.duplicateButton.disabled = !e;
    this.deleteButton.disabled = !e;
    this.useButton.disabled = !e || e.id === this.settings?.activeEndpointId;
    this.formError.textContent = '';
    this.testResult.textContent = '';
    this.validate(false);
  }

  private changed(): void {
    this.dirty = true;
    this.validate(true);
    this.showSecretBinding();
  }

  /**
   * A stored secret belongs to the origin (scheme, host, port) it was saved
   * for: once the URI points elsewhere, the main process neither sends it on
   * Test nor keeps it on Save, and the form says so and asks for it again.
   */
  private showSecretBinding(): void {
    const e = this.current();
    const moved = e?.hasSecret === true && originOf(this.uri.value) !== originOf(e.uri);
    this.secret.placeholder = e?.hasSecret && !moved ? 'stored (type to replace)' : '';
    this.removeSecretRow.hidden = !e?.hasSecret || moved;
    this.secretMessage.textContent = moved
      ? 'The URI now points at another server: the stored secret will not be sent there, and is dropped on Save. Enter the secret for this server.'
      : '';
  }

  private enableAdvanced(): void {
    this.proxyUrl.disabled = !this.proxyCustom.checked;
    this.proxyUser.disabled = !this.authPassword.checked;
    this.proxySecret.disabled = !this.authPassword.checked;
  }

  private advancedChanged(): void {
    this.enableAdvanced();
    this.changed();
    void this.checkAdvanced();
  }

  /** Asks the main process to check the advanced fields with the core's parsers; shows and returns the problems. */
  private async checkAdvanced(): Promise<AdvancedProblems> {
    const seq = ++this.advancedSeq;
    const problems = await this.api.checkAdvanced({ proxy: this.proxySetting(), trust: this.trustSetting(), proxyAuth: this.authSetting() });
    if (seq === this.advancedSeq) this.showAdvanced(problems);
    return problems;
  }

  private showAdvanced(problems: AdvancedProblems): void {
    const inputs: Record<keyof AdvancedProblems, HTMLElement> = {
      proxyUrl: this.proxyUrl,
      caFile: this.caFile,
      pins: this.pins,
      pinOnly: this.pinOnly,
      servername: this.servername,
      proxyUser: this.proxyUser,
      clientCert: this.clientCert,
    };
    for (const key of Object.keys(inputs) as Array<keyof AdvancedProblems>) {
      const problem = problems[key];
      this.advancedMessages[key].textContent = problem ? capitalize(problem) + '.' : '';
      if (problem) inputs[key].setAttribute('aria-invalid', 'true');
      else inputs[key].removeAttribute('aria-invalid');
    }
  }

  private proxySetting(): ProxySetting {
    if (this.proxyNone.checked) return 'none';
    if (this.proxyCustom.checked) return { url: this.proxyUrl.value };
    return 'system';
  }

  private trustSetting(): EndpointTrust {
    return {
      caFile: this.caFile.value,
      systemCa: this.systemCa.checked,
      pins: this.pins.value.split(/\r?\n/).map((p) => p.trim()).filter(Boolean),
      pinOnly: this.pinOnly.checked,
      servername: this.servername.value,
      clientCert: this.clientCert.value,
      clientKey: this.clientKey.value,
      clientPfx: this.clientPfx.value,
    };
  }

  private authSetting(): ProxyAuthSetting {
    return this.authPassword.checked ? { mode: 'password', user: this.proxyUser.value } : { mode: 'windows' };
  }

  /** Checks every field; shows messages for the ones the user has touched (or all on save). */
  private validate(show: boolean): boolean {
    const problems = {
      name: this.name.value.trim() === '' ? 'Give the endpoint a name.' : '',
      uri: uriProblem(this.uri.value),
      user: /[:\r\n]/.test(this.user.value) ? 'The user name must not contain ":".' : '',
      keepalive: keepaliveProblem(this.keepalive.value),
    };
    let ok = true;
    for (const key of Object.keys(problems) as Array<keyof typeof problems>) {
      const problem = problems[key];
      if (problem) ok = false;
      const input = { name: this.name, uri: this.uri, user: this.user, keepalive: this.keepalive }[key];
      const visible = show && (input.value !== '' || key !== 'name' || this.dirty) ? problem : '';
      this.messages[key].textContent = visible;
      if (visible) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    return ok;
  }

  private input(): EndpointInput {
    const typed = this.secret.value;
    return {
      id: this.selectedId ?? undefined,
      name: this.name.value,
      uri: this.uri.value,
      user: this.user.value,
      secret: this.removeSecret.checked ? '' : typed !== '' ? typed : undefined,
      keepaliveSec: Number(this.keepalive.value),
      proxy: this.proxySetting(),
      trust: this.trustSetting(),
      proxyAuth: this.authSetting(),
      proxySecret: this.proxySecret.value !== '' ? this.proxySecret.value : undefined,
      clientPassphrase: this.clientPassphrase.value !== '' ? this.clientPassphrase.value : this.clientPfx.value.trim() === '' ? '' : undefined,
    };
  }

  private async save(): Promise<void> {
    this.dirty = true;
    const fieldsOk = this.validate(true);
    const advancedOk = Object.keys(await this.checkAdvanced()).length === 0;
    if (!fieldsOk || !advancedOk) {
      if (!advancedOk) this.advanced.open = true;
      const firstInvalid = this.form.querySelector<HTMLElement>('[aria-invalid="true"]');
      firstInvalid?.focus();
      return;
    }
    const outcome = await this.api.saveEndpoint(this.input());
    if (!outcome.ok) {
      this.formError.textContent = outcome.error;
      return;
    }
    this.selectedId = outcome.value.id;
    this.dirty = false;
    delete this.form.dataset.mode;
    this.settings = await this.api.getSettings();
    this.render(this.settings);
    this.fillForm();
    this.announce(`Saved “${outcome.value.name}”.`);
  }

  private async duplicate(): Promise<void> {
    if (!this.selectedId) return;
    const outcome = await this.api.duplicateEndpoint(this.selectedId);
    if (!outcome.ok) return void (this.formError.textContent = outcome.error);
    this.settings = await this.api.getSettings();
    this.edit(outcome.value.id);
    this.announce(`Added “${outcome.value.name}”.`);
  }

  private async remove(): Promise<void> {
    const e = this.current();
    if (!e) return;
    const outcome = await this.api.deleteEndpoint(e.id);
    if (!outcome.ok) return void (this.formError.textContent = outcome.error);
    this.settings = await this.api.getSettings();
    this.selectedId = this.settings.endpoints[0]?.id ?? null;
    this.dirty = false;
    this.render(this.settings);
    this.fillForm();
    this.showUndo(e);
  }

  private showUndo(deleted: EndpointView): void {
    window.clearTimeout(this.undoTimer);
    const undo = h('button', { type: 'button', onclick: () => void restore() }, 'Undo');
    const restore = async () => {
      window.clearTimeout(this.undoTimer);
      this.undoBar.hidden = true;
      const outcome = await this.api.restoreEndpoint(deleted.id);
      if (!outcome.ok) return void this.announce(outcome.error);
      this.settings = await this.api.getSettings();
      this.edit(deleted.id);
      this.announce(`Restored “${deleted.name}”.`);
    };
    clear(this.undoBar);
    this.undoBar.append(h('span', {}, `Deleted “${deleted.name}”.`), undo);
    this.undoBar.hidden = false;
    undo.focus();
    this.undoTimer = window.setTimeout(() => (this.undoBar.hidden = true), 15_000);
  }

  private async use(): Promise<void> {
    if (!this.selectedId) return;
    const outcome = await this.api.selectEndpoint(this.selectedId);
    if (!outcome.ok) return void (this.formError.textContent = outcome.error);
    this.announce(`The tunnel now uses “${this.current()?.name}”.`);
  }

  private async test(): Promise<void> {
    this.dirty = true;
    if (!this.validate(true)) return;
    this.testButton.disabled = true;
    this.testResult.className = 'test-result pending';
    this.testResult.textContent = `Testing ${this.testTarget.value.trim() || '…'}`;
    try {
      const result = await this.api.testEndpoint({ endpoint: this.input(), target: this.testTarget.value });
      clear(this.testResult);
      if (result.ok) {
        this.testResult.className = 'test-result ok';
        this.testResult.append(
          h('strong', {}, 'SSH server answered: '),
          h('code', { class: 'banner' }, result.banner),
          h('span', {}, ` (tunnel open in ${result.connectMs} ms, banner after ${result.totalMs} ms)`),
        );
      } else {
        this.testResult.className = 'test-result failed';
        append(this.testResult, h('strong', {}, 'Failed: '), h('span', { class: 'reason' }, result.reason), result.totalMs > 0 && h('span', {}, ` (after ${result.totalMs} ms)`));
      }
    } finally {
      this.testButton.disabled = false;
    }
  }
}

/** The core parser's message for a URI, or '' when it is valid. */
export function uriProblem(text: string): string {
  try {
    parseEndpoint(text);
    return '';
  } catch (err) {
    if (err instanceof EndpointError) return capitalize(err.message) + '.';
    throw err;
  }
}

function keepaliveProblem(text: string): string {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0 || n > MAX_KEEPALIVE_SEC) {
    return `Enter whole seconds from 0 (off) to ${MAX_KEEPALIVE_SEC}.`;
  }
  return '';
}

/** scheme://host:port of a URI as typed, or '' when it is not one yet. */
function originOf(uri: string): string {
  try {
    return new URL(uri.trim()).origin;
  } catch {
    return '';
  }
}
