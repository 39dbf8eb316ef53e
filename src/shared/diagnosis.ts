/**
 * A diagnosis of the path to an endpoint: what `wssh doctor` prints and the
 * tray app's Diagnose shows, step by step (src/core/doctor/ walks it).
 *
 * Runs anywhere (types and constants only): no Node, no Electron, no DOM.
 */

/**
 * The steps, in the order of the path: which way (a proxy, the PAC answer,
 * DIRECT) and why; the next hop's name; the TCP connection to it; the HTTP
 * proxy's CONNECT and sign-in; TLS; the WebSocket upgrade; the target behind
 * the server (its policy and the SSH banner); and, when asked, how long an
 * idle tunnel lives.
 */
export type DiagnosisStepName = 'route' | 'dns' | 'tcp' | 'proxy' | 'tls' | 'upgrade' | 'target' | 'idle';

/** pass; fail (the path is broken here); warn (it works, with something to know); skip (not on this path). */
export type DiagnosisVerdict = 'pass' | 'fail' | 'warn' | 'skip';

export interface DiagnosisStep {
  step: DiagnosisStepName;
  verdict: DiagnosisVerdict;
  /** What was tried: `DNS of proxy.corp (the HTTP proxy)`. */
  tried: string;
  /** How long it took, in ms (0 for a skipped step). */
  ms: number;
  /** What came back: `10.0.0.5`, `407: offers Negotiate, NTLM`, `SSH-2.0-OpenSSH_9.2p1`. */
  answer: string;
  /** For a failure (or a warning): the most likely cause, in the user's terms. */
  cause?: string;
  /** For a failure (or a warning): what to do about it, naming the setting where it is done. */
  fix?: string;
}

export interface Diagnosis {
  /** The path works: a tunnel opened and the SSH server answered. */
  ok: boolean;
  /** The endpoint as shown (never with its secret). */
  endpoint: string;
  /** The target asked for: `db1.lan` or `db1.lan:2222`. */
  target: string;
  /** When it started, ISO 8601. */
  startedAt: string;
  totalMs: number;
  steps: DiagnosisStep[];
}

/** The words of each verdict as the CLI prints them and the window labels them. */
export const VERDICT_LABEL: Readonly<Record<DiagnosisVerdict, string>> = { pass: 'ok', fail: 'FAIL', warn: 'warn', skip: 'skip' };

/** The steps' names as a person reads them. */
export const STEP_LABEL: Readonly<Record<DiagnosisStepName, string>> = {
  route: 'Route',
  dns: 'DNS',
  tcp: 'TCP',
  proxy: 'Proxy',
  tls: 'TLS',
  upgrade: 'Upgrade',
  target: 'Target',
  idle: 'Idle',
};
