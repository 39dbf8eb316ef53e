/**
 * The side of the Endpoints view: the saved endpoints (the active one
 * marked, the one in the editor current), "Add endpoint", and the Undo bar
 * after a delete.
 */
import type { EndpointView, SettingsView } from '../shared/ipc';
import { EDITOR_LABELS as L } from '../shared/editorLabels';
import { clear, h } from './dom';

/** How long the Undo of a delete is offered. */
const UNDO_MS = 15_000;

export class EndpointList {
  readonly element: HTMLElement;
  private readonly list = h('ul', { class: 'endpoint-list', 'aria-label': 'Saved endpoints' });
  private readonly undoBar = h('div', { class: 'undo-bar', role: 'status', hidden: true });
  private undoTimer: number | undefined;

  /** `edit` opens an endpoint in the editor, or a blank one for null. */
  constructor(private readonly edit: (id: string | null) => void) {
    const addButton = h('button', { type: 'button', class: 'primary', onclick: () => this.edit(null) }, 'Add endpoint');
    this.element = h('div', { class: 'endpoint-side' }, h('h2', {}, L.endpoints), this.list, addButton, this.undoBar);
  }

  render(settings: SettingsView, selectedId: string | null): void {
    clear(this.list);
    if (settings.endpoints.length === 0) this.list.append(h('li', { class: 'empty' }, 'No endpoints yet.'));
    for (const e of settings.endpoints) {
      const active = e.id === settings.activeEndpointId;
      const button = h(
        'button',
        {
          type: 'button',
          class: 'endpoint-item',
          'aria-current': e.id === selectedId ? 'true' : undefined,
          'data-id': e.id,
          onclick: () => this.edit(e.id),
        },
        h('span', { class: 'endpoint-name' }, e.name),
        active ? h('span', { class: 'badge' }, 'active') : null,
        h('span', { class: 'endpoint-uri' }, e.uri),
      );
      this.list.append(h('li', {}, button));
    }
  }

  /** Offers to undo the delete of `deleted` for a while; `restore` brings it back. */
  showUndo(deleted: EndpointView, restore: () => Promise<void>): void {
    window.clearTimeout(this.undoTimer);
    const undo = h(
      'button',
      {
        type: 'button',
        onclick: () => {
          window.clearTimeout(this.undoTimer);
          this.undoBar.hidden = true;
          void restore();
        },
      },
      'Undo',
    );
    clear(this.undoBar);
    this.undoBar.append(h('span', {}, `Deleted “${deleted.name}”.`), undo);
    this.undoBar.hidden = false;
    undo.focus();
    this.undoTimer = window.setTimeout(() => (this.undoBar.hidden = true), UNDO_MS);
  }
}
