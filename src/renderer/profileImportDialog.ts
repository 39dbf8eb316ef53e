/**
 * The confirmation of an endpoint profile import: shows everything the
 * profile will add (name, URI, user, proxy, resume when off, each CA certificate, pins, pin
 * only, server name) and asks. An endpoint of the same URI is updated only
 * when the user picks that; the default adds a new one, and the update says
 * what it changes and which stored secrets it drops (main decides both).
 * Importing never selects the endpoint or starts a tunnel (main enforces it
 * too).
 */
import type { EndpointView, ProfileOffer, ProfilePreview, WsshApi } from '../shared/ipc';
import { capitalize } from '../shared/sentence';
import { proxySettingText } from '../shared/endpointSettings';
import { EDITOR_LABELS as L } from '../shared/editorLabels';
import { append, clear, h } from './dom';

export class ProfileImportDialog {
  readonly element = h('dialog', { class: 'profile-import', 'aria-labelledby': 'profile-import-title' });

  constructor(
    private readonly api: WsshApi,
    private readonly announce: (text: string) => void,
    private readonly imported: (endpoint: EndpointView) => void,
  ) {
    // Escape closes the dialog: that is a cancel.
    this.element.addEventListener('cancel', () => this.cancelled());
  }

  /** Shows an offer: the confirmation, or why the profile cannot be imported. */
  offer(offer: ProfileOffer): void {
    clear(this.element);
    if (offer.ok) this.renderPreview(offer.preview);
    else this.renderError(offer.source, offer.error);
    if (!this.element.open) this.element.showModal();
  }

  private renderError(source: string, error: string): void {
    const close = h('button', { type: 'button', class: 'primary', onclick: () => this.element.close() }, 'Close');
    this.element.append(
      h('h2', { id: 'profile-import-title' }, 'This profile cannot be imported'),
      h('p', { class: 'field-message', role: 'alert' }, `${capitalize(source)}: ${stripSource(error, source)}`),
      h('p', {}, 'Nothing was changed.'),
      h('div', { class: 'buttons' }, close),
    );
    close.focus();
  }

  private renderPreview(preview: ProfilePreview): void {
    const rows: Array<[string, Node | string]> = [
      ['Name', preview.name],
      ['Endpoint URI', preview.uri],
      ['User', preview.user === '' ? 'none' : `${preview.user} (you type your own secret in the editor)`],
      ['Proxy', proxyText(preview)],
    ];
    // On unless the profile says otherwise: only the exception is worth a line.
    if (!preview.resume) rows.push([L.resume, 'off: a break of the connection ends the SSH session']);
    if (preview.uri.startsWith('wss:')) {
      rows.push([
        'CA certificates',
        preview.ca.length === 0
          ? 'none added (the usual certificate authorities)'
          : h(
              'ul',
              { class: 'certificates' },
              ...preview.ca.map((c) =>
                h(
                  'li',
                  {},
                  h('strong', {}, c.subject),
                  h('br'),
                  `issued by ${c.issuer}`,
                  h('br'),
                  `valid ${c.validFrom} to ${c.validTo}`,
                  h('br'),
                  h('code', {}, c.fingerprint),
                ),
              ),
            ),
      ]);
      const pins = preview.pins.length === 0 ? 'none' : h('ul', { class: 'pins' }, ...preview.pins.map((p) => h('li', {}, h('code', {}, p))));
      rows.push(['Pinned fingerprints', pins]);
      if (preview.pins.length > 0) {
        const pinOnly = preview.pinOnly
          ? 'yes: the pin replaces the issuer and name checks (dates are still checked)'
          : 'no: the pin is checked on top of the usual checks';
        rows.push(['Pin only', pinOnly]);
      }
      rows.push(['Server name (SNI)', preview.servername === '' ? 'the URI’s host' : preview.servername]);
    }
    const list = h('dl', { class: 'profile-fields' });
    for (const [label, value] of rows) list.append(h('dt', {}, label), h('dd', {}, value));

    const { choice, updateRadio } = preview.existing ? existingChoice(preview.existing) : { choice: null, updateRadio: null };

    const message = h('p', { class: 'field-message', id: 'profile-import-message', role: 'alert' });
    const importButton = h('button', { type: 'button', class: 'primary' }, 'Import');
    const cancelButton = h('button', { type: 'button' }, 'Cancel');
    cancelButton.addEventListener('click', () => {
      this.element.close();
      this.cancelled();
    });
    importButton.addEventListener('click', async () => {
      importButton.disabled = true;
      const update = updateRadio?.checked === true;
      const outcome = await this.api.importProfile({
        text: preview.text,
        source: preview.source,
        mode: update ? 'update' : 'add',
        updateId: update ? preview.existing?.id : undefined,
      });
      importButton.disabled = false;
      if (!outcome.ok) {
        message.textContent = capitalize(outcome.error);
        return;
      }
      this.element.close();
      this.announce(`Endpoint “${outcome.value.name}” ${update ? 'updated' : 'added'}. It is not selected: choose it to use it.`);
      this.imported(outcome.value);
    });

    append(
      this.element,
      h('h2', { id: 'profile-import-title' }, 'Import endpoint profile'),
      h('p', { class: 'field-help' }, `From ${preview.source}. Check it before you import: this is what will be saved.`),
      list,
      choice,
      h('p', { class: 'field-help' }, 'The endpoint is saved to your list. It is not selected and no tunnel starts.'),
      message,
      h('div', { class: 'buttons' }, importButton, cancelButton),
    );
    importButton.focus();
  }

  private cancelled(): void {
    this.announce('Import canceled: nothing was changed.');
  }
}

/** The proxy, and for a custom one that the Windows sign-in waits for the user's approval. */
function proxyText(preview: ProfilePreview): string {
  const text = proxySettingText(preview.proxy);
  if (typeof preview.proxy !== 'object') return text;
  return `${text} (your Windows sign-in is not sent to it unless you tick “${L.proxyWindowsSignIn}” in the editor)`;
}

/** Add (the default) or update the saved endpoint of the same URI, with what the update would do. */
function existingChoice(existing: NonNullable<ProfilePreview['existing']>): { choice: HTMLElement; updateRadio: HTMLInputElement } {
  const name = existing.name;
  const add = h('input', { type: 'radio', name: 'profile-import-mode', id: 'profile-import-add', value: 'add', checked: true });
  const updateRadio = h('input', {
    type: 'radio',
    name: 'profile-import-mode',
    id: 'profile-import-update',
    value: 'update',
    'aria-describedby': 'profile-import-update-details',
  });
  const choice = h(
    'fieldset',
    { class: 'profile-existing' },
    h('legend', {}, `An endpoint with this URI is already saved: “${name}”`),
    h('div', {}, add, h('label', { for: 'profile-import-add' }, 'Add as a new endpoint, keep “' + name + '” as it is')),
    h('div', {}, updateRadio, h('label', { for: 'profile-import-update' }, `Update “${name}” with these settings`)),
    updateDetails(existing),
  );
  return { choice, updateRadio };
}

/** What updating the saved endpoint changes, and which stored secrets it drops: as main will do it. */
function updateDetails(existing: NonNullable<ProfilePreview['existing']>): HTMLElement {
  const changes =
    existing.changes.length === 0
      ? h('p', {}, 'Updating changes none of its settings.')
      : h(
          'div',
          {},
          h('p', {}, 'Updating changes:'),
          h('ul', { class: 'profile-changes' }, ...existing.changes.map((c) => h('li', {}, `${c.label}: ${c.from} → ${c.to}`))),
        );
  const dropped =
    existing.dropped.length === 0
      ? h('p', {}, 'What it has stored stays: it would go where it went before.')
      : h(
          'div',
          {},
          h('p', {}, 'and removes, so that they do not go where they never went (enter them again if you trust the new settings):'),
          h('ul', { class: 'profile-dropped' }, ...existing.dropped.map((d) => h('li', {}, d))),
        );
  return h('div', { class: 'field-help', id: 'profile-import-update-details' }, changes, dropped);
}

/** Main's message starts with the source already; the dialog names it once. */
function stripSource(error: string, source: string): string {
  return error.startsWith(`${source}: `) ? error.slice(source.length + 2) : error;
}
