/**
 * The Endpoints view: the list of endpoints (endpointList.ts) and the editor
 * (endpointEditor.ts, with its Advanced section, advancedSection.ts, and its
 * Test panel, testPanel.ts): add, edit, duplicate, delete (with Undo),
 * choose the active one, and "Test" a path to an SSH host. This class keeps
 * which endpoint is in the editor and whether it has been edited, and does
 * what the buttons ask through the main process.
 */
import type { EndpointInput, EndpointView, SettingsView, WsshApi } from '../shared/ipc';
import { h } from './dom';
import { AdvancedSection } from './advancedSection';
import { EndpointEditor } from './endpointEditor';
import { EndpointList } from './endpointList';
import { TestPanel } from './testPanel';

export class EndpointsView {
  readonly element: HTMLElement;
  private settings: SettingsView | undefined;
  /** The endpoint in the editor; null for a new one. */
  private selectedId: string | null = null;
  private dirty = false;
  private readonly list: EndpointList;
  private readonly editor: EndpointEditor;
  private readonly advanced: AdvancedSection;
  private readonly testPanel: TestPanel;

  constructor(
    private readonly api: WsshApi,
    private readonly announce: (text: string) => void,
  ) {
    this.advanced = new AdvancedSection(api, () => this.changed());
    this.testPanel = new TestPanel(api, () => this.testable());
    this.editor = new EndpointEditor(this.advanced.element, this.testPanel.element, {
      changed: () => this.changed(),
      save: () => void this.save(),
      duplicate: () => void this.duplicate(),
      remove: () => void this.remove(),
      use: () => void this.use(),
    });
    this.list = new EndpointList((id) => this.edit(id));
    this.element = h('div', { class: 'endpoints' }, this.list.element, this.editor.element);
  }

  render(settings: SettingsView): void {
    this.settings = settings;
    if (this.selectedId !== null && !settings.endpoints.some((e) => e.id === this.selectedId)) {
      this.selectedId = settings.endpoints[0]?.id ?? null;
      this.dirty = false;
    }
    if (this.selectedId === null && !this.dirty && settings.endpoints.length > 0 && !this.editor.mode) {
      this.selectedId = settings.activeEndpointId ?? settings.endpoints[0].id;
    }
    this.renderList();
    if (!this.dirty) this.fillForm();
  }

  /** Opens an endpoint in the editor, or a blank one for `null`. */
  edit(id: string | null): void {
    this.selectedId = id;
    this.dirty = false;
    this.editor.mode = id === null ? 'new' : 'edit';
    this.renderList();
    this.fillForm();
    this.editor.focusName();
  }

  private current(): EndpointView | undefined {
    return this.settings?.endpoints.find((e) => e.id === this.selectedId);
  }

  private renderList(): void {
    if (this.settings) this.list.render(this.settings, this.selectedId);
  }

  private fillForm(): void {
    const e = this.current();
    this.editor.fill(e, this.settings?.activeEndpointId);
    this.advanced.fill(e);
    this.testPanel.reset();
    this.validate(false);
  }

  private changed(): void {
    this.dirty = true;
    this.validate(true);
    this.editor.showSecretBinding(this.current());
  }

  private validate(show: boolean): boolean {
    return this.editor.validate(show, this.dirty);
  }

  private input(): EndpointInput {
    return { ...this.editor.input(this.selectedId ?? undefined), ...this.advanced.input() };
  }

  /** The endpoint as typed for "Test", once its fields are valid (their problems shown). */
  private testable(): EndpointInput | undefined {
    this.dirty = true;
    return this.validate(true) ? this.input() : undefined;
  }

  private async save(): Promise<void> {
    this.dirty = true;
    const fieldsOk = this.validate(true);
    const advancedOk = Object.keys(await this.advanced.check()).length === 0;
    if (!fieldsOk || !advancedOk) {
      if (!advancedOk) this.advanced.element.open = true;
      this.editor.focusFirstInvalid();
      return;
    }
    const outcome = await this.api.saveEndpoint(this.input());
    if (!outcome.ok) {
      this.editor.showError(outcome.error);
      return;
    }
    this.selectedId = outcome.value.id;
    this.dirty = false;
    this.editor.mode = undefined;
    this.settings = await this.api.getSettings();
    this.render(this.settings);
    this.fillForm();
    this.announce(`Saved “${outcome.value.name}”.`);
  }

  private async duplicate(): Promise<void> {
    if (!this.selectedId) return;
    const outcome = await this.api.duplicateEndpoint(this.selectedId);
    if (!outcome.ok) return void this.editor.showError(outcome.error);
    this.settings = await this.api.getSettings();
    this.edit(outcome.value.id);
    this.announce(`Added “${outcome.value.name}”.`);
  }

  private async remove(): Promise<void> {
    const e = this.current();
    if (!e) return;
    const outcome = await this.api.deleteEndpoint(e.id);
    if (!outcome.ok) return void this.editor.showError(outcome.error);
    this.settings = await this.api.getSettings();
    this.selectedId = this.settings.endpoints[0]?.id ?? null;
    this.dirty = false;
    this.render(this.settings);
    this.fillForm();
    this.list.showUndo(e, () => this.restore(e));
  }

  private async restore(deleted: EndpointView): Promise<void> {
    const outcome = await this.api.restoreEndpoint(deleted.id);
    if (!outcome.ok) return void this.announce(outcome.error);
    this.settings = await this.api.getSettings();
    this.edit(deleted.id);
    this.announce(`Restored “${deleted.name}”.`);
  }

  private async use(): Promise<void> {
    if (!this.selectedId) return;
    const outcome = await this.api.selectEndpoint(this.selectedId);
    if (!outcome.ok) return void this.editor.showError(outcome.error);
    this.announce(`The tunnel now uses “${this.current()?.name}”.`);
  }
}
