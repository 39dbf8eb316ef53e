/**
 * The tray app's "Diagnose": the path to an endpoint (the active one, or the
 * one in the editor, saved or not) walked by the same doctor as `wssh
 * doctor` (core/doctor/), with the app's own plan for the endpoint (its
 * proxy setting, sign-in and trust, as its tunnels and "Test" get them).
 * Each step is told as it completes, for the window's list that fills in;
 * the last diagnosis is kept for "Save diagnostics…".
 */
import { EventEmitter } from 'node:events';
import { TargetError, parseTarget } from '../../shared/target';
import type { Diagnosis, DiagnosisStep } from '../../shared/diagnosis';
import type { Outcome, ProxySetting } from '../../shared/ipc';
import { EDITOR_LABELS as L } from '../../shared/editorLabels';
import { runDoctor } from '../../core/doctor/pathWalk';
import type { DoctorWords } from '../../core/doctor/stepWords';
import type { SystemProxyAnswer } from '../../core/dial/endpointPlan';
import type { ResolvedEndpoint } from '../settings/settingsEditor';
import { editorPlace, errorText, withRemedy } from '../settings/configRemedies';
import { appPlan } from './endpointCheck';

/** The settings the app's fixes point at: the endpoint editor's fields, by the labels it shows. */
export function appWords(endpointName: string | undefined): DoctorWords {
  const place = (label: (typeof L)[keyof typeof L]) => editorPlace(endpointName, label);
  const endpoint = `${L.endpoints} ▸ ${endpointName ?? 'the endpoint'}`;
  return {
    proxy: place(L.proxy),
    proxySignIn: place(L.proxySignIn),
    ca: place(L.caFile),
    pin: place(L.pins),
    servername: place(L.servername),
    clientCertificate: place(L.clientCertificate),
    credentials: `User and Secret in ${endpoint}`,
    keepalive: `Keepalive (seconds) in ${endpoint}`,
    remedy: (message, problem) => withRemedy(message, problem),
  };
}

/** Where the route comes from, in the app's words. */
function routeSource(proxy: ProxySetting): string {
  if (proxy === 'none') return `${L.proxy}: ${L.proxyNone}`;
  if (typeof proxy === 'object') return `${L.proxy}: ${L.proxyCustom}`;
  return "the system's proxy settings (as Windows resolves them, PAC included)";
}

export interface DiagnosisOptions {
  /** The system's proxy for a URL (Electron's `session.resolveProxy`). */
  resolveSystemProxy?: SystemProxyAnswer;
  /** How long the handshake may take, in ms. @default the dialer's */
  handshakeTimeoutMs?: number;
}

/** One step of a run, for the window: `run` is the window's name for the run it asked for. */
export interface DiagnosisProgress {
  run: string;
  step: DiagnosisStep;
}

/** Runs diagnoses, tells their steps (`step` events), and keeps the last one. */
export class EndpointDiagnoses extends EventEmitter<{ step: [progress: DiagnosisProgress] }> {
  /** The last diagnosis that ran to its end, with the endpoint's name. */
  last?: { name: string; diagnosis: Diagnosis };

  constructor(private readonly options: DiagnosisOptions = {}) {
    super();
  }

  /** Walks the path of `resolved` to `targetText`; the steps go out as `step` events of `run`. */
  async run(run: string, resolved: ResolvedEndpoint, targetText: string): Promise<Outcome<Diagnosis>> {
    let target;
    try {
      if (targetText.trim() === '') throw new TargetError('name the SSH host to reach, e.g. db1.lan or db1.lan:2222');
      target = parseTarget(targetText.trim());
    } catch (err) {
      if (err instanceof TargetError) return { ok: false, error: err.message };
      throw err;
    }
    let planned;
    try {
      planned = await appPlan(resolved, this.options);
    } catch (err) {
      return { ok: false, error: errorText(err as Error) };
    }
    const diagnosis = await runDoctor({
      endpoint: resolved.endpoint,
      target,
      plan: planned.plan,
      trust: planned.trust,
      routeSource: routeSource(resolved.proxy),
      words: appWords(resolved.name || undefined),
      onStep: (step) => this.emit('step', { run, step }),
    });
    this.last = { name: resolved.name, diagnosis };
    return { ok: true, value: diagnosis };
  }
}
