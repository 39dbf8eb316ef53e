/**
 * The endpoint editor's form: name, URI, user, secret and keepalive, checked
 * as they are typed (the URI by the core's own parser, so the message here
 * is the one the tunnel would give), with the Advanced section and the Test
 * panel in it, and the buttons. What the buttons do is the Endpoints view's.
 */
import { EndpointError, parseEndpoint } from '../shared/endpoint';
import type { EndpointInput, EndpointView } from '../shared/ipc';
import { DEFAULT_KEEPALIVE_SEC, MAX_KEEPALIVE_SEC } from '../shared/defaults';
import { capitalize } from '../shared/sentence';
import { field, h } from './dom';

/** What the editor's buttons and edits ask of the view. */
export interface EditorActions {
  /** A field was edited. */
  changed(): void;
  save(): void;
  duplicate(): void;
  remove(): void;
  use(): void;
}

export class EndpointEditor {
  readonly element = h('form', { class: 'editor', novalidate: true, 'aria-labelledby': 'editor-title' });
  private readonly title = h('h2', { id: 'editor-title' }, 'New endpoint');
  private readonly name = h('input', { type: 'text', autocomplete: 'off', maxlength: 200, required: true });
  private readonly uri = h('input', {
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'wss://gw.example.com/ssh',
    required: true,
  });
  private readonly user = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  private readonly secret = h('input', { type: 'password', autocomplete: 'new-password' });
  private readonly secretMessage: HTMLElement;
  private readonly removeSecret = h('input', { type: 'checkbox', id: 'ep-remove-secret' });
  private readonly removeSecretRow = h(
    'div',
    { class: 'check', hidden: true },
    this.removeSecret,
    h('label', { for: 'ep-remove-secret' }, 'Remove the stored secret'),
  );
  private readonly keepalive = h('input', { type: 'number', min: 0, max: MAX_KEEPALIVE_SEC, step: 1, inputmode: 'numeric' });
  private readonly messages: Record<'name' | 'uri' | 'user' | 'keepalive', HTMLElement>;
  private readonly formError = h('p', { class: 'form-error', role: 'alert' });
  private readonly saveButton = h('button', { type: 'submit', class: 'primary' }, 'Save');
  private readonly duplicateButton = h('button', { type: 'button' }, 'Duplicate');
  private readonly deleteButton = h('button', { type: 'button', class: 'danger' }, 'Delete');
  private readonly useButton = h('button', { type: 'button' }, 'Use for the tunnel');

  constructor(advanced: HTMLElement, testPanel: HTMLElement, actions: EditorActions) {
    const name = field('ep-name', 'Name', this.name);
    const uri = field('ep-uri', 'Endpoint URI', this.uri, 'ws:// or wss:// and the path of the WSSH server, e.g. wss://gw.example.com/ssh');
    const user = field('ep-user', 'User (optional)', this.user, 'Sent as HTTP Basic authentication when the server asks for it.');
    const secret = field('ep-secret', 'Secret (optional)', this.secret, 'Stored encrypted with your Windows account; never shown again.');
    const keepaliveHelp = 'A ping this often keeps idle sessions open through proxies; 0 turns it off.';
    const keepalive = field('ep-keepalive', 'Keepalive (seconds)', this.keepalive, keepaliveHelp);
    this.messages = { name: name.message, uri: uri.message, user: user.message, keepalive: keepalive.message };
    this.secretMessage = secret.message;
    this.element.append(
      this.title,
      name.row,
      uri.row,
      h('div', { class: 'field-pair' }, user.row, h('div', {}, secret.row, this.removeSecretRow)),
      keepalive.row,
      advanced,
      this.formError,
      h('div', { class: 'buttons' }, this.saveButton, this.useButton, this.duplicateButton, this.deleteButton),
      testPanel,
    );

    for (const control of [this.name, this.uri, this.user, this.secret, this.keepalive]) {
      control.addEventListener('input', () => actions.changed());
    }
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      actions.save();
    });
    this.duplicateButton.addEventListener('click', () => actions.duplicate());
    this.deleteButton.addEventListener('click', () => actions.remove());
    this.useButton.addEventListener('click', () => actions.use());
  }

  /** 'new' or 'edit' once the user opened one; none while the editor shows what the list selected by itself. */
  get mode(): string | undefined {
    return this.element.dataset.mode;
  }

  set mode(mode: 'new' | 'edit' | undefined) {
    if (mode === undefined) delete this.element.dataset.mode;
    else this.element.dataset.mode = mode;
  }

  /** Shows an endpoint's fields, or a blank one's for `undefined`; its buttons as they apply to it. */
  fill(e: EndpointView | undefined, activeEndpointId: string | null | undefined): void {
    this.title.textContent = e ? `Edit “${e.name}”` : 'New endpoint';
    this.name.value = e?.name ?? '';
    this.uri.value = e?.uri ?? '';
    this.user.value = e?.user ?? '';
    this.secret.value = '';
    this.secret.placeholder = e?.hasSecret ? 'stored (type to replace)' : '';
    this.removeSecret.checked = false;
    this.removeSecretRow.hidden = !e?.hasSecret;
    this.secretMessage.textContent = '';
    this.keepalive.value = String(e?.keepaliveSec ?? DEFAULT_KEEPALIVE_SEC);
    this.duplicateButton.disabled = !e;
    this.deleteButton.disabled = !e;
    this.useButton.disabled = !e || e.id === activeEndpointId;
    this.formError.textContent = '';
  }

  /**
   * A stored secret belongs to the origin (scheme, host, port) it was saved
   * for: once the URI points elsewhere, the main process neither sends it on
   * Test nor keeps it on Save, and the form says so and asks for it again.
   */
  showSecretBinding(e: EndpointView | undefined): void {
    const moved = e?.hasSecret === true && originOf(this.uri.value) !== originOf(e.uri);
    this.secret.placeholder = e?.hasSecret && !moved ? 'stored (type to replace)' : '';
    this.removeSecretRow.hidden = !e?.hasSecret || moved;
    this.secretMessage.textContent = moved
      ? 'The URI now points at another server: the stored secret will not be sent there, and is dropped on Save. ' + 'Enter the secret for this server.'
      : '';
  }

  /**
   * Checks every field; shows messages for the ones the user has touched (or
   * all on save). An empty name is not complained of until the form is `dirty`.
   */
  validate(show: boolean, dirty: boolean): boolean {
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
      const visible = show && (input.value !== '' || key !== 'name' || dirty) ? problem : '';
      this.messages[key].textContent = visible;
      if (visible) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    return ok;
  }

  /** The endpoint's own fields as typed, for endpoint `id` (undefined for a new one). */
  input(id: string | undefined): Pick<EndpointInput, 'id' | 'name' | 'uri' | 'user' | 'secret' | 'keepaliveSec'> {
    const typed = this.secret.value;
    return {
      id,
      name: this.name.value,
      uri: this.uri.value,
      user: this.user.value,
      secret: this.removeSecret.checked ? '' : typed !== '' ? typed : undefined,
      keepaliveSec: Number(this.keepalive.value),
    };
  }

  showError(text: string): void {
    this.formError.textContent = text;
  }

  focusName(): void {
    this.name.focus();
  }

  focusFirstInvalid(): void {
    this.element.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
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
