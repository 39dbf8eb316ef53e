/**
 * The log: recent lines, newest last, filtered by text and level; and the
 * folder where the app keeps them in files, which the user can open (to
 * send a file to an admin).
 */
import type { LogLine, WsshApi } from '../shared/ipc';
import { field, h } from './dom';
import { formatTime } from './format';
import { saveDiagnosticsButton } from './diagnosisList';

const MAX_LINES = 1000;
const LEVELS: Record<string, number> = { info: 0, warn: 1, error: 2 };

export class LogView {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'log', id: 'log-lines', 'aria-label': 'Log lines', tabindex: 0 });
  private readonly filter = h('input', { type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: 'text to find' });
  private readonly level = h(
    'select',
    {},
    h('option', { value: 'info' }, 'All'),
    h('option', { value: 'warn' }, 'Warnings and errors'),
    h('option', { value: 'error' }, 'Errors'),
  );
  private readonly count = h('p', { class: 'quiet', 'aria-live': 'polite' });
  private readonly folderMessage = h('span', { class: 'quiet', id: 'log-folder-message', 'aria-live': 'polite' });
  private lines: LogLine[] = [];

  constructor(private readonly api: WsshApi) {
    const filter = field('log-filter', 'Filter', this.filter);
    const level = field('log-level', 'Show', this.level);
    const openFolder = h('button', { type: 'button', id: 'log-open-folder', onclick: () => void this.openFolder() }, 'Open log folder');
    this.element = h(
      'div',
      { class: 'log-view' },
      h('div', { class: 'inline-form' }, filter.row, level.row),
      h('div', { class: 'buttons' }, openFolder, this.folderMessage, saveDiagnosticsButton(api, 'log-save-diagnostics')),
      this.count,
      this.list,
    );
    this.filter.addEventListener('input', () => this.render());
    this.level.addEventListener('change', () => this.render());
  }

  setLines(lines: LogLine[]): void {
    this.lines = lines.slice(-MAX_LINES);
    this.render();
  }

  add(line: LogLine): void {
    if (this.lines.length > 0 && this.lines[this.lines.length - 1].seq >= line.seq) return;
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.shift();
    this.render();
  }

  private async openFolder(): Promise<void> {
    const outcome = await this.api.openLogFolder();
    this.folderMessage.textContent = outcome.ok ? `Opened ${outcome.value}.` : `Not opened: ${outcome.error}`;
  }

  private render(): void {
    const text = this.filter.value.trim().toLowerCase();
    const min = LEVELS[this.level.value] ?? 0;
    const shown = this.lines.filter((l) => LEVELS[l.level] >= min && (text === '' || l.text.toLowerCase().includes(text)));
    const stick = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 4;
    this.list.replaceChildren(
      ...shown.map((l) =>
        h(
          'li',
          { class: `level-${l.level}` },
          h('time', { datetime: new Date(l.at).toISOString() }, formatTime(l.at)),
          h('span', { class: 'level' }, l.level),
          h('span', { class: 'text' }, l.text),
        ),
      ),
    );
    this.count.textContent = shown.length === this.lines.length ? `${shown.length} lines` : `${shown.length} of ${this.lines.length} lines`;
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }
}
