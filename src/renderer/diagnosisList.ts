/**
 * "Diagnose": the path to an SSH host walked step by step (the same doctor
 * as `wssh doctor`), shown as a list that fills in as each step completes:
 * its verdict (pass, fail, warning, skipped), its time, what was tried and
 * what came back, and for a failed step the likely cause and the fix.
 */
import type { DiagnoseRequest, Diagnosis, DiagnosisStep, WsshApi } from '../shared/ipc';
import { STEP_LABEL, VERDICT_LABEL } from '../shared/diagnosis';
import { h } from './dom';

/** What a verdict is called for a screen reader and a tooltip. */
const VERDICT_WORDS: Record<DiagnosisStep['verdict'], string> = { pass: 'passed', fail: 'failed', warn: 'warning', skip: 'skipped' };

export class DiagnosisList {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly summary: HTMLElement;
  private run: string | undefined;
  private runs = 0;

  /** `id` names this list in the page (two views have one each). */
  constructor(
    private readonly api: WsshApi,
    private readonly id: string,
  ) {
    this.list = h('ol', { class: 'diagnosis', id: `${id}-steps`, 'aria-label': 'Diagnosis steps' });
    this.summary = h('p', { class: 'diagnosis-summary', id: `${id}-summary`, 'aria-live': 'polite' });
    this.element = h('div', { class: 'diagnosis-panel', id }, this.summary, this.list);
    this.element.hidden = true;
    api.on('diagnosis:step', (progress) => {
      if (progress.run === this.run) this.list.append(stepItem(progress.step));
    });
  }

  /** Runs a diagnosis; the steps show as they come. */
  async diagnose(request: Omit<DiagnoseRequest, 'run'>): Promise<void> {
    const run = `${this.id}-${++this.runs}`;
    this.run = run;
    this.element.hidden = false;
    this.list.replaceChildren();
    this.summary.className = 'diagnosis-summary pending';
    this.summary.textContent = `Diagnosing the path to ${request.target.trim() || '…'}`;
    const outcome = await this.api.diagnose({ ...request, run });
    if (this.run !== run) return; // a newer run took the list over
    if (!outcome.ok) {
      this.summary.className = 'diagnosis-summary failed';
      this.summary.textContent = `Not diagnosed: ${outcome.error}`;
      return;
    }
    // The whole run, whatever order its events came in.
    this.list.replaceChildren(...outcome.value.steps.map(stepItem));
    this.summary.className = `diagnosis-summary ${outcome.value.ok ? 'ok' : 'failed'}`;
    this.summary.textContent = summaryText(outcome.value);
  }

  /** Forgets the last run (another endpoint is in the editor). */
  reset(): void {
    this.run = undefined;
    this.list.replaceChildren();
    this.element.hidden = true;
  }
}

/**
 * "Save diagnostics…": asks where, and writes one file for an admin (the
 * versions, the settings without secrets, the last diagnosis, the last log
 * lines); a message says where it went. `id` names the button.
 */
export function saveDiagnosticsButton(api: WsshApi, id: string): HTMLElement {
  const message = h('span', { class: 'quiet', id: `${id}-message`, 'aria-live': 'polite' });
  const button = h('button', { type: 'button', id }, 'Save diagnostics…');
  button.addEventListener('click', () => {
    button.disabled = true;
    void api
      .saveDiagnostics()
      .then((result) => {
        message.textContent =
          result.status === 'saved'
            ? `Saved ${result.path}: send it to your admin.`
            : result.status === 'canceled'
              ? 'Not saved.'
              : `Not saved: ${result.reason}`;
      })
      .finally(() => (button.disabled = false));
  });
  return h('span', { class: 'save-diagnostics' }, button, ' ', message);
}

function stepItem(step: DiagnosisStep): HTMLLIElement {
  return h(
    'li',
    { class: `step verdict-${step.verdict}`, 'data-step': step.step },
    h('span', { class: 'verdict', title: VERDICT_WORDS[step.verdict], 'aria-label': VERDICT_WORDS[step.verdict] }, VERDICT_LABEL[step.verdict]),
    h('strong', { class: 'step-name' }, STEP_LABEL[step.step]),
    h('span', { class: 'ms' }, step.verdict === 'skip' ? '' : `${step.ms} ms`),
    h('span', { class: 'what' }, `${step.tried}: `, h('span', { class: 'answer' }, step.answer)),
    step.cause ? h('p', { class: 'cause' }, h('strong', {}, 'Cause: '), step.cause) : null,
    step.fix ? h('p', { class: 'fix' }, h('strong', {}, 'Fix: '), step.fix) : null,
  );
}

function summaryText(diagnosis: Diagnosis): string {
  const broken = diagnosis.steps.find((s) => s.verdict === 'fail');
  if (broken) return `Broken at ${STEP_LABEL[broken.step]}: ${broken.cause ?? broken.answer}`;
  const warned = diagnosis.steps.filter((s) => s.verdict === 'warn').map((s) => STEP_LABEL[s.step]);
  return `The path works (${diagnosis.totalMs} ms)${warned.length ? `, with a warning at ${warned.join(', ')}` : ''}.`;
}
