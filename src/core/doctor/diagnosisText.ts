/**
 * A diagnosis as text: one line per step (what was tried, how long it took,
 * what came back), and under a failure or a warning its cause and fix. What
 * `wssh doctor` prints and what a saved diagnostics file holds.
 */
import { STEP_LABEL, VERDICT_LABEL, type Diagnosis, type DiagnosisStep } from '../../shared/diagnosis';

const INDENT = ' '.repeat(24);

/** One step: `ok    dns        3 ms  DNS of proxy.corp (the HTTP proxy): proxy.corp → 10.0.0.5`, then `cause:` and `fix:` lines. */
export function stepLines(step: DiagnosisStep): string[] {
  const ms = step.verdict === 'skip' ? '' : `${step.ms} ms`;
  const head = `${VERDICT_LABEL[step.verdict].padEnd(5)} ${STEP_LABEL[step.step].toLowerCase().padEnd(8)} ${ms.padStart(8)}  ${step.tried}: ${step.answer}`;
  const lines = [head];
  if (step.cause) lines.push(`${INDENT}cause: ${step.cause}`);
  if (step.fix) lines.push(`${INDENT}fix:   ${step.fix}`);
  return lines;
}

/** The first line of a run: what is checked. */
export function diagnosisHeading(endpoint: string, target: string): string {
  return `checking the path to ${target} through ${endpoint}`;
}

/** The last line of a run: the verdict, and where it broke. */
export function diagnosisVerdict(diagnosis: Diagnosis): string {
  if (diagnosis.ok) {
    const warned = diagnosis.steps.filter((s) => s.verdict === 'warn').map((s) => STEP_LABEL[s.step].toLowerCase());
    return `the path works (${diagnosis.totalMs} ms)${warned.length ? `, with warnings at: ${[...new Set(warned)].join(', ')}` : ''}`;
  }
  const failed = diagnosis.steps.find((s) => s.verdict === 'fail');
  return `the path is broken at: ${failed ? `${STEP_LABEL[failed.step].toLowerCase()} (${failed.tried})` : 'an unknown step'}`;
}

/** The whole run as lines: the heading, the steps, the verdict. */
export function diagnosisLines(diagnosis: Diagnosis): string[] {
  return [
    `started at ${diagnosis.startedAt}`,
    diagnosisHeading(diagnosis.endpoint, diagnosis.target),
    ...diagnosis.steps.flatMap(stepLines),
    diagnosisVerdict(diagnosis),
  ];
}
