/**
 * The endpoint editor's Advanced section: the proxy, the proxy sign-in, TLS
 * trust (CA file, the Windows store, pins, server name), the client
 * certificate, and whether tunnels are resumed after a break. Its fields are checked by the main process with the core's
 * own parsers (`checkAdvanced`), so the message here is the one the tunnel
 * would give.
 *
 * What goes to the proxy is said where it is chosen (issue 24): a custom
 * proxy gets the Windows sign-in only once "Send my Windows sign-in to this
 * proxy" is ticked (a proxy typed here starts ticked, an imported one not);
 * the stored proxy password belongs to the proxy and user it was saved for,
 * and the form says when an edit leaves it behind.
 */
import type { AdvancedProblems, EndpointInput, EndpointTrust, EndpointView, PickFileRequest, ProxyAuthSetting, ProxySetting, WsshApi } from '../shared/ipc';
import { EDITOR_LABELS as L } from '../shared/editorLabels';
import { capitalize } from '../shared/sentence';
import { proxyBinding } from '../shared/endpointSettings';
import { field, h } from './dom';
import { latestOnly } from './latestOnly';

const STORED = 'stored (type to replace)';

export class AdvancedSection {
  readonly element = h('details', { class: 'advanced' });
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
  private readonly proxySecretMessage: HTMLElement;
  private readonly windowsSignIn = h('input', { type: 'checkbox', id: 'ep-proxy-windows' });
  private readonly clearBasic = h('input', { type: 'checkbox', id: 'ep-proxy-clear-basic' });
  /** The endpoint as saved, for what its stored password and approval are bound to. */
  private stored: EndpointView | undefined;
  // Client certificate: PEM certificate and key, or one PKCS#12 file and its passphrase.
  private readonly clientCert = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'C:\\certs\\alice.crt' });
  private readonly clientKey = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'C:\\certs\\alice.key' });
  private readonly clientPfx = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'C:\\certs\\alice.pfx' });
  private readonly clientPassphrase = h('input', { type: 'password', autocomplete: 'new-password' });
  private readonly resume = h('input', { type: 'checkbox', id: 'ep-resume', 'aria-describedby': 'ep-resume-help' });
  private readonly messages: Record<keyof AdvancedProblems, HTMLElement>;
  /** An older check's answer, come late, is not shown. */
  private readonly newest = latestOnly();

  /** `edited` hears every edit here, as the editor's own fields' edits. */
  constructor(
    private readonly api: WsshApi,
    private readonly edited: () => void,
  ) {
    const proxyUrl = field('ep-proxy-url', L.proxyUrl, this.proxyUrl, 'For Custom: http://[user:password@]host:port.');
    const caFile = field('ep-ca-file', `${L.caFile} (optional)`, this.caFile, 'A PEM file of CA certificates to trust too, e.g. your company’s CA.');
    const pins = field('ep-pins', `${L.pins} (one per line)`, this.pins, 'sha256 fingerprints of the server’s certificate; one must match.');
    const servername = field('ep-servername', L.servername, this.servername, 'Sent in TLS and checked in the certificate instead of the endpoint’s host.');
    const pinOnlyMessage = h('p', { class: 'field-message', id: 'ep-pin-only-message', 'aria-live': 'polite' });
    this.pinOnly.setAttribute('aria-describedby', 'ep-pin-only-message');
    const proxyUser = field('ep-proxy-user', 'Proxy user', this.proxyUser, 'DOMAIN\\user for NTLM, or the user the proxy knows.');
    const proxySecret = field(
      'ep-proxy-secret',
      'Proxy password',
      this.proxySecret,
      'Stored encrypted with your Windows account; never shown again; sent only to this proxy as this user.',
    );
    this.proxySecretMessage = proxySecret.message;
    const clientCertHelp = 'For a gateway that asks for a certificate, with its key file.';
    const clientCert = field('ep-client-cert', `${L.clientCertificate} (PEM)`, this.clientCert, clientCertHelp);
    const clientKey = field('ep-client-key', 'Its key (PEM)', this.clientKey);
    const clientPfx = field('ep-client-pfx', 'Or a PKCS#12 file (.pfx, .p12)', this.clientPfx);
    const clientPassphrase = field('ep-client-passphrase', L.clientPassphrase, this.clientPassphrase, 'Stored encrypted with your Windows account.');
    this.messages = {
      proxyUrl: proxyUrl.message,
      caFile: caFile.message,
      pins: pins.message,
      pinOnly: pinOnlyMessage,
      servername: servername.message,
      proxyUser: proxyUser.message,
      clientCert: clientCert.message,
    };
    const radio = (input: HTMLInputElement, label: string) => h('label', { for: input.id }, input, label);
    this.element.append(
      h('summary', {}, `${L.advanced}: proxy, sign-in, TLS trust, client certificate, resume`),
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
        check(
          this.clearBasic,
          L.proxyClearBasic,
          'Only for a DOMAIN\\user on an http:// proxy that asks for Basic alone: anyone on the way can read the password. Leave it off otherwise.',
        ),
        check(
          this.windowsSignIn,
          L.proxyWindowsSignIn,
          'For Custom URL: it signs in as you (Kerberos, or NTLM inside it, which a hostile proxy can relay). ' +
            'Tick it only for a proxy you trust; a proxy from an imported profile starts unticked. The system’s proxies need no approval.',
        ),
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
        this.withBrowse(clientCert.row, this.clientCert, { title: 'the client certificate', kind: 'certificate' }),
        this.withBrowse(clientKey.row, this.clientKey, { title: 'its key', kind: 'key' }),
        this.withBrowse(clientPfx.row, this.clientPfx, { title: 'the PKCS#12 file', kind: 'pfx' }),
        clientPassphrase.row,
      ),
      h('div', { class: 'check' }, this.resume, h('label', { for: 'ep-resume' }, L.resume)),
      h(
        'p',
        { class: 'field-help', id: 'ep-resume-help' },
        'When the connection to the gateway breaks (Wi-Fi, sleep, a proxy’s cut), the tunnel reconnects and your SSH session goes on. ' +
          'Needs a WSSH server that offers it; applies from the next start of the tunnel.',
      ),
    );
    this.listen();
  }

  /** Shows an endpoint's settings, or the defaults for `undefined` (a new endpoint). */
  fill(e: EndpointView | undefined): void {
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
    this.stored = e;
    this.authWindows.checked = auth.mode === 'windows';
    this.authPassword.checked = auth.mode === 'password';
    this.proxyUser.value = auth.mode === 'password' ? auth.user : '';
    this.clearBasic.checked = auth.mode === 'password' && auth.clearBasic === true;
    // A proxy typed here is the user's own choice; an imported one waits for the tick.
    this.windowsSignIn.checked = e === undefined || typeof e.proxy !== 'object' ? true : e.proxyWindowsSignIn;
    this.proxySecret.value = '';
    this.proxySecret.placeholder = e?.hasProxySecret ? STORED : '';
    this.clientCert.value = trust.clientCert ?? '';
    this.clientKey.value = trust.clientKey ?? '';
    this.clientPfx.value = trust.clientPfx ?? '';
    this.clientPassphrase.value = '';
    this.clientPassphrase.placeholder = e?.hasClientPassphrase ? STORED : '';
    this.resume.checked = e?.resume ?? true;
    this.enable();
    // Open when something in it is set, so it is never hidden that it is.
    this.element.open = proxy !== 'system' || Object.keys(trust).length > 0 || auth.mode !== 'windows' || !this.resume.checked;
    this.show({});
  }

  /**
   * The stored proxy password belongs to the proxy and user it was saved
   * for: once either is edited, main neither sends it on Test nor keeps it on
   * Save, and the form says so and asks for it again.
   */
  private showPasswordBinding(): void {
    const e = this.stored;
    const had = e?.hasProxySecret === true && e.proxyAuth.mode === 'password';
    const moved =
      had && (proxyBinding(this.proxySetting()) !== proxyBinding(e.proxy) || this.proxyUser.value.trim() !== (e.proxyAuth as { user: string }).user);
    this.proxySecret.placeholder = had && !moved ? STORED : '';
    this.proxySecretMessage.textContent =
      moved && this.authPassword.checked
        ? 'The proxy or user changed: the stored password will not be sent, and is dropped on Save. Enter the password for this proxy.'
        : '';
  }

  /** What the section adds to the endpoint the editor saves or tests. */
  input(): Pick<EndpointInput, 'proxy' | 'trust' | 'proxyAuth' | 'proxySecret' | 'clientPassphrase' | 'proxyWindowsSignIn' | 'resume'> {
    const passphrase = this.clientPassphrase.value;
    return {
      proxy: this.proxySetting(),
      trust: this.trustSetting(),
      proxyAuth: this.authSetting(),
      proxySecret: this.proxySecret.value !== '' ? this.proxySecret.value : undefined,
      clientPassphrase: passphrase !== '' ? passphrase : this.clientPfx.value.trim() === '' ? '' : undefined,
      resume: this.resume.checked,
      proxyWindowsSignIn: this.proxyCustom.checked ? this.windowsSignIn.checked : undefined,
    };
  }

  /** Asks the main process to check the fields with the core's parsers; shows and returns the problems. */
  async check(): Promise<AdvancedProblems> {
    const asked = { proxy: this.proxySetting(), trust: this.trustSetting(), proxyAuth: this.authSetting() };
    return this.newest(
      () => this.api.checkAdvanced(asked),
      (problems) => this.show(problems),
    );
  }

  private listen(): void {
    const controls = [this.proxySystem, this.proxyNone, this.proxyCustom, this.systemCa, this.pinOnly, this.authWindows, this.authPassword];
    for (const control of [...controls, this.windowsSignIn, this.clearBasic]) {
      control.addEventListener('change', () => this.changed());
    }
    // Nothing to check with the core: only an edit.
    this.resume.addEventListener('change', () => this.edited());
    const typed = [
      this.proxyUrl,
      this.caFile,
      this.pins,
      this.servername,
      this.proxyUser,
      this.proxySecret,
      this.clientCert,
      this.clientKey,
      this.clientPfx,
      this.clientPassphrase,
    ];
    for (const control of typed) control.addEventListener('input', () => this.changed());
  }

  /** A file picker beside a path field, through the preload API (the page cannot open files itself). */
  private withBrowse(row: HTMLElement, input: HTMLInputElement, request: PickFileRequest): HTMLElement {
    const browse = h(
      'button',
      {
        type: 'button',
        class: 'browse',
        'aria-label': `Browse for ${request.title}`,
        onclick: () =>
          void this.api.pickFile(request).then((file) => {
            if (file === null) return;
            input.value = file;
            this.changed();
          }),
      },
      'Browse…',
    );
    row.insertBefore(h('div', { class: 'inline' }, input, browse), row.querySelector('.field-help, .field-message'));
    return row;
  }

  private changed(): void {
    this.enable();
    this.showPasswordBinding();
    this.edited();
    void this.check();
  }

  private enable(): void {
    this.proxyUrl.disabled = !this.proxyCustom.checked;
    this.proxyUser.disabled = !this.authPassword.checked;
    this.proxySecret.disabled = !this.authPassword.checked;
    this.clearBasic.disabled = !this.authPassword.checked;
    this.windowsSignIn.disabled = !this.proxyCustom.checked;
  }

  private show(problems: AdvancedProblems): void {
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
      this.messages[key].textContent = problem ? capitalize(problem) + '.' : '';
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
      pins: this.pins.value
        .split(/\r?\n/)
        .map((p) => p.trim())
        .filter(Boolean),
      pinOnly: this.pinOnly.checked,
      servername: this.servername.value,
      clientCert: this.clientCert.value,
      clientKey: this.clientKey.value,
      clientPfx: this.clientPfx.value,
    };
  }

  private authSetting(): ProxyAuthSetting {
    if (!this.authPassword.checked) return { mode: 'windows' };
    return this.clearBasic.checked ? { mode: 'password', user: this.proxyUser.value, clearBasic: true } : { mode: 'password', user: this.proxyUser.value };
  }
}

/** A checkbox with its label and a line of help, wired with aria-describedby. */
function check(input: HTMLInputElement, label: string, help: string): HTMLElement {
  const helpId = `${input.id}-help`;
  input.setAttribute('aria-describedby', helpId);
  return h('div', {}, h('div', { class: 'check' }, input, h('label', { for: input.id }, label)), h('p', { class: 'field-help', id: helpId }, help));
}
