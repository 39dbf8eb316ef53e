/**
 * The editor's "Test this endpoint": a path through the endpoint (as typed,
 * saved or not) to an SSH host, and what came back: the SSH server's banner
 * and the times, or why it failed. Beside Test, "Diagnose" walks the same
 * path step by step and says which hop is broken (diagnosisList.ts).
 */
import type { EndpointInput, WsshApi } from '../shared/ipc';
import { append, clear, field, h } from './dom';
import { DiagnosisList } from './diagnosisList';

export class TestPanel {
  readonly element: HTMLElement;
  private readonly target = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'db1.lan or db1.lan:2222' });
  private readonly button = h('button', { type: 'button' }, 'Test');
  private readonly diagnoseButton = h('button', { type: 'button', id: 'ep-diagnose' }, 'Diagnose');
  private readonly result = h('div', { class: 'test-result', 'aria-live': 'polite' });
  private readonly diagnosis: DiagnosisList;

  /** `endpoint` gives the endpoint as typed, or undefined (its fields are not valid: nothing is tested). */
  constructor(
    private readonly api: WsshApi,
    private readonly endpoint: () => EndpointInput | undefined,
  ) {
    const targetField = field('ep-test-target', 'SSH host to reach', this.target);
    this.diagnosis = new DiagnosisList(api, 'ep-diagnosis');
    this.element = h(
      'fieldset',
      { class: 'test' },
      h('legend', {}, 'Test this endpoint'),
      h('div', { class: 'inline' }, targetField.row, this.button, this.diagnoseButton),
      this.result,
      this.diagnosis.element,
    );
    this.button.addEventListener('click', () => void this.test());
    this.diagnoseButton.addEventListener('click', () => void this.diagnose());
    this.target.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        void this.test();
      }
    });
  }

  /** Forgets the last result (another endpoint is in the editor). */
  reset(): void {
    this.result.textContent = '';
    this.diagnosis.reset();
  }

  private async diagnose(): Promise<void> {
    const endpoint = this.endpoint();
    if (!endpoint) return;
    this.diagnoseButton.disabled = true;
    this.result.textContent = '';
    try {
      await this.diagnosis.diagnose({ endpoint, target: this.target.value });
    } finally {
      this.diagnoseButton.disabled = false;
    }
  }

  private async test(): Promise<void> {
    const endpoint = this.endpoint();
    if (!endpoint) return;
    this.button.disabled = true;
    this.result.className = 'test-result pending';
    this.result.textContent = `Testing ${this.target.value.trim() || '…'}`;
    try {
      const result = await this.api.testEndpoint({ endpoint, target: this.target.value });
      clear(this.result);
      if (result.ok) {
        this.result.className = 'test-result ok';
        this.result.append(
          h('strong', {}, 'SSH server answered: '),
          h('code', { class: 'banner' }, result.banner),
          h('span', {}, ` (tunnel open in ${result.connectMs} ms, banner after ${result.totalMs} ms)`),
        );
      } else {
        this.result.className = 'test-result failed';
        append(
          this.result,
          h('strong', {}, 'Failed: '),
          h('span', { class: 'reason' }, result.reason),
          result.totalMs > 0 && h('span', {}, ` (after ${result.totalMs} ms)`),
        );
      }
    } finally {
      this.button.disabled = false;
    }
  }
}
