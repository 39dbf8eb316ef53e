/**
 * `wssh doctor` and the tray app's Diagnose: the path to an endpoint walked
 * step by step with the tunnel's own code, and named where it breaks.
 *
 * The walk is one dial through the endpoint's plan (dial/endpointPlan.ts:
 * the same routes, proxy sign-in, trust and timeouts as a tunnel), told
 * what it sees as it happens (dial/dialTrace.ts), then the SSH banner read
 * as "Test" reads it. Each event completes a step; the error a dial ends in
 * fails the step the dial was at. A route that cannot be reached, tried
 * before the next one as a tunnel would, is a warning, not the verdict.
 */
import net from 'node:net';
import type WebSocket from 'ws';
import type { Endpoint } from '../../shared/endpoint';
import { formatTarget, type Target } from '../../shared/target';
import type { Diagnosis, DiagnosisStep, DiagnosisStepName, DiagnosisVerdict } from '../../shared/diagnosis';
import { TunnelError } from '../tunnel/tunnelError';
import { REFUSALS } from '../tunnel/refusals';
import { describeRoute, describeRoutes, type ProxyDecision, type ProxyRoute } from '../upstream/routes';
import { resolveProxy } from '../upstream/upstreamProxy';
import type { EndpointPlan } from '../dial/endpointPlan';
import { dialRoutes } from '../dial/proxyRoutes';
import type { DialEvent } from '../dial/dialTrace';
import type { TrustOptions } from '../dial/trust/trust';
import { SERVER_MARK_HEADER } from '../dial/legacyServer';
import { chainFacts, type ChainFacts } from './tlsChain';
import { awaitBanner } from './sshBanner';
import { holdIdle, type IdleOptions } from './idleProbe';
import * as say from './stepWords';

/** How long the SSH server may take to send its banner once the tunnel is open. @default 10000 */
export const DEFAULT_BANNER_TIMEOUT_MS = 10_000;

export interface DoctorOptions {
  endpoint: Endpoint;
  target: Target;
  /**
   * False when the user named no target and `target` stands in for one: the
   * server's refusal of it, or its silence, is then no failure of the path.
   * @default true
   */
  targetGiven?: boolean;
  /** The endpoint's plan, as its tunnels get it. */
  plan: EndpointPlan;
  /** The endpoint's trust, to tell whose the presented certificate is. */
  trust?: TrustOptions;
  /** Where the route comes from, in words: `--proxy`, `the PAC file http://…`, `the system's proxy settings`. */
  routeSource: string;
  words: say.DoctorWords;
  /** @default DEFAULT_BANNER_TIMEOUT_MS */
  bannerTimeoutMs?: number;
  /** Holds the tunnel idle afterwards, and says when the path cut it (idleProbe.ts). */
  idle?: IdleOptions;
  /** Told each step as it completes. */
  onStep?: (step: DiagnosisStep) => void;
  signal?: AbortSignal;
}

/** The steps of one route, in order. */
type Pending = Exclude<DiagnosisStepName, 'route' | 'idle'>;

interface Attempt {
  route: ProxyRoute | undefined;
  /** The next hop: the proxy, or the endpoint's host. */
  hop: { kind: 'proxy' | 'endpoint'; host: string; port: number };
  pending: Pending[];
  tls?: { protocol: string; chain: Buffer[] };
  refused?: Extract<DialEvent, { kind: 'refused' }>;
  proxyAnswer?: Extract<DialEvent, { kind: 'proxy-answer' }>;
}

/** Walks the path once; resolves with every step (each also told to `onStep` as it completes). */
export async function runDoctor(options: DoctorOptions): Promise<Diagnosis> {
  return new PathWalk(options).run();
}

class PathWalk {
  private readonly steps: DiagnosisStep[] = [];
  private readonly started = performance.now();
  private last = this.started;
  private attempt?: Attempt;

  constructor(private readonly o: DoctorOptions) {}

  async run(): Promise<Diagnosis> {
    const startedAt = new Date().toISOString();
    const decision = await this.route();
    if (decision !== 'failed') {
      const ws = await this.dial(decision);
      if (ws) await this.target(ws);
    }
    return {
      ok: !this.steps.some((s) => s.verdict === 'fail'),
      endpoint: this.o.endpoint.display,
      target: formatTarget(this.o.target),
      startedAt,
      totalMs: Math.round(performance.now() - this.started),
      steps: this.steps,
    };
  }

  private emit(step: DiagnosisStepName, verdict: DiagnosisVerdict, tried: string, words: say.StepWords): void {
    const now = performance.now();
    const ms = verdict === 'skip' ? 0 : Math.round(now - this.last);
    if (verdict !== 'skip') this.last = now;
    const done: DiagnosisStep = { step, verdict, tried, ms, answer: words.answer };
    if (words.cause) done.cause = words.cause;
    if (words.fix) done.fix = words.fix;
    this.steps.push(done);
    this.o.onStep?.(done);
  }

  /** Which way, and why: the decision the plan makes for a tunnel. */
  private async route(): Promise<ProxyDecision | 'failed'> {
    const { endpoint, plan, routeSource } = this.o;
    const tried = `the way to ${endpoint.display}`;
    let decision: ProxyDecision;
    try {
      decision = await plan.resolveProxy(endpoint);
    } catch (err) {
      if (!(err instanceof TunnelError)) throw err;
      const fix = err.setting ? this.o.words.remedy(err.message, err.setting) : `check ${this.o.words.proxy}`;
      this.emit('route', 'fail', tried, { answer: `${routeSource}: nothing usable`, cause: err.message, fix });
      return 'failed';
    }
    this.emit('route', 'pass', tried, { answer: `${routeSource}: ${this.describe(decision)}` });
    return decision;
  }

  private describe(decision: ProxyDecision): string {
    if (decision === undefined) {
      const env = resolveProxy(this.o.endpoint, undefined);
      return env ? `${env.display} (from ${env.source})` : 'DIRECT (no proxy variable names one for it)';
    }
    return describeRoutes(Array.isArray(decision) ? decision : [decision]);
  }

  /** The dial, through the routes in order, told each step; the open WebSocket, or undefined when it failed. */
  private async dial(decision: ProxyDecision): Promise<WebSocket | undefined> {
    const { endpoint, target, plan } = this.o;
    const first = Array.isArray(decision) ? decision[0] : decision;
    this.begin(first);
    try {
      return await dialRoutes(endpoint, target, decision, {
        ...plan.dial,
        signal: this.o.signal,
        trace: (event) => this.on(event),
        onFallback: (failed, _reason, next, error) => {
          this.fail(error, `; ${describeRoute(failed)} skipped, trying ${describeRoute(next)}`);
          this.begin(next);
        },
      });
    } catch (err) {
      if (!(err instanceof TunnelError)) throw err;
      this.fail(err);
      return undefined;
    }
  }

  /** A route's attempt begins: its steps, and DNS skipped for an address. */
  private begin(route: ProxyRoute | undefined): void {
    const { endpoint } = this.o;
    const url = new URL(endpoint.url);
    const proxy = route === undefined ? resolveProxy(endpoint, undefined)?.url : route === false ? undefined : new URL(routeUrl(route));
    const hop = proxy
      ? { kind: 'proxy' as const, host: unbracket(proxy.hostname), port: Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80) }
      : { kind: 'endpoint' as const, host: unbracket(url.hostname), port: Number(url.port) || (endpoint.secure ? 443 : 80) };
    const pending: Pending[] = ['dns', 'tcp', ...(proxy ? (['proxy'] as const) : []), ...(endpoint.secure ? (['tls'] as const) : []), 'upgrade', 'target'];
    this.attempt = { route, hop, pending };
    if (net.isIP(hop.host)) this.complete('dns', 'skip', { answer: `${hop.host} is an address: nothing to look up` });
  }

  private tried(step: Pending): string {
    const a = this.attempt!;
    const { endpoint, target } = this.o;
    const who = a.hop.kind === 'proxy' ? 'the HTTP proxy' : 'the gateway';
    switch (step) {
      case 'dns':
        return `DNS of ${a.hop.host} (${who})`;
      case 'tcp':
        return `TCP to ${a.hop.host}:${a.hop.port} (${who})`;
      case 'proxy':
        return `CONNECT ${new URL(endpoint.url).host} through ${describeRoute(a.route ?? false)}`;
      case 'tls':
        return `TLS with ${new URL(endpoint.url).host}`;
      case 'upgrade':
        return `WebSocket upgrade at ${endpoint.display}`;
      case 'target':
        return `${formatTarget(target)} through the WSSH server`;
    }
  }

  /** Completes `step` and any before it still pending (a step that has no event of its own passed when a later one came). */
  private complete(step: Pending, verdict: DiagnosisVerdict, words: say.StepWords): void {
    const a = this.attempt;
    if (!a || !a.pending.includes(step)) return;
    while (a.pending[0] !== step) {
      const skipped = a.pending.shift()!;
      this.emit(skipped, 'pass', this.tried(skipped), { answer: 'done' });
    }
    a.pending.shift();
    this.emit(step, verdict, this.tried(step), words);
  }

  private on(event: DialEvent): void {
    const a = this.attempt;
    if (!a) return;
    switch (event.kind) {
      case 'lookup':
        if (!event.error && event.hop === a.hop.kind) this.complete('dns', 'pass', { answer: `${event.host} → ${event.address}` });
        return;
      case 'connect':
        if (event.hop === a.hop.kind) this.complete('tcp', 'pass', { answer: event.address === event.host ? 'connected' : `connected to ${event.address}` });
        return;
      case 'proxy-answer':
        if (event.status === 407 || !a.proxyAnswer) a.proxyAnswer = event;
        return;
      case 'proxy-open':
        return this.complete('proxy', 'pass', { answer: proxyOpened(event, a.proxyAnswer, proxyUser(a.route)) });
      case 'tls':
        a.tls = { protocol: event.protocol, chain: event.chain };
        return;
      case 'tls-verified':
        return this.tlsPassed();
      case 'upgrade':
        return this.upgraded(event);
      case 'refused':
        a.refused = event;
        // The server answered, and named the target as what it refused: the upgrade itself was fine.
        if (event.refusal && say.TARGET_REFUSALS.has(event.refusal)) {
          this.complete('upgrade', 'pass', { answer: `${event.status} ${event.statusText}: the WSSH server answered, refusing the target`.replace('  ', ' ') });
        }
        return;
    }
  }

  private facts(): ChainFacts | undefined {
    const tls = this.attempt?.tls;
    return tls ? chainFacts(tls.chain, this.o.trust) : undefined;
  }

  private tlsPassed(): void {
    const facts = this.facts();
    const protocol = this.attempt?.tls?.protocol ?? 'TLS';
    const checks = [facts?.pinned ? 'pinned' : '', facts?.fromTrustedCa ? "from the endpoint's CA" : '', 'trusted'].filter(Boolean).join(', ');
    const answer = facts ? `${protocol}; ${facts.subject} issued by ${facts.issuer}; ${checks}` : `${protocol}; trusted`;
    if (facts?.inspection) {
      this.complete('tls', 'warn', {
        answer,
        cause: `${facts.inspection}: something on the way may inspect TLS, and this computer trusts its CA`,
        fix:
          `ask IT whether ${new URL(this.o.endpoint.url).hostname} is exempt from TLS inspection; ` +
          `pin the gateway's certificate (${this.o.words.pin}) to refuse any other`,
      });
      return;
    }
    this.complete('tls', 'pass', { answer });
  }

  private upgraded(event: Extract<DialEvent, { kind: 'upgrade' }>): void {
    if (event.mark !== undefined)
      return this.complete('upgrade', 'pass', { answer: `${event.status} Switching Protocols; ${SERVER_MARK_HEADER}: ${event.mark}` });
    this.complete('upgrade', 'warn', {
      answer: `${event.status} Switching Protocols, with no ${SERVER_MARK_HEADER} mark`,
      cause: 'an original (or old) wssh server: it reports a refused target only after the upgrade, as a text or a close, so the first frame tells',
      fix: "ask the gateway's admin to update it: a new server names each refusal before the upgrade",
    });
  }

  /**
   * The dial failed: the step it was at fails (or, for a route skipped for
   * the next, warns), and the rest of that route's steps are not reached.
   */
  private fail(err: TunnelError, skipped?: string): void {
    const a = this.attempt;
    if (!a) return;
    const at: Pending | 'route' =
      err.code === 'TRUST_CONFIG' || err.refusal === 'client-certificate' ? 'tls' : err.code === 'PROXY_CONFIG' ? 'route' : (a.pending[0] ?? 'target');
    if (at === 'route') {
      this.emit('route', 'fail', `the way to ${this.o.endpoint.display}`, {
        answer: err.message,
        cause: err.message,
        fix: err.setting && this.o.words.remedy(err.message, err.setting),
      });
    } else {
      while (a.pending[0] !== at && a.pending.length > 0) a.pending.shift();
      a.pending.shift();
      const words = this.failureWords(at, err);
      if (skipped) words.answer += skipped;
      const untested = at === 'target' && this.o.targetGiven === false;
      this.emit(at, skipped ? 'warn' : untested ? 'skip' : 'fail', this.tried(at), untested ? { answer: `${words.answer} (no target given)` } : words);
    }
    if (!skipped) for (const step of a.pending.splice(0)) this.emit(step, 'skip', this.tried(step), { answer: 'not reached' });
  }

  private failureWords(step: Pending, err: TunnelError): say.StepWords {
    const a = this.attempt!;
    const { endpoint, target, words } = this.o;
    if (err.refusal === 'client-gone') return { answer: 'cancelled', cause: REFUSALS['client-gone'].message };
    switch (step) {
      case 'dns':
        return say.dnsFailure(a.hop.kind, a.hop.host, err, words);
      case 'tcp':
        return say.tcpFailure(a.hop.kind, a.hop.host, a.hop.port, err, words);
      case 'proxy':
        return say.proxyFailure(err, endpoint, words);
      case 'tls':
        return say.tlsFailure(err, this.facts(), endpoint, words);
      case 'upgrade':
        return say.upgradeFailure(err, a.refused, endpoint, words);
      case 'target':
        return say.targetFailure(err, a.refused, target, words);
    }
  }

  /** The tunnel is open: the target's banner, then (when asked) the idle probe. */
  private async target(ws: WebSocket): Promise<void> {
    const name = formatTarget(this.o.target);
    const since = performance.now();
    const banner = await awaitBanner(ws, name, this.o.bannerTimeoutMs ?? DEFAULT_BANNER_TIMEOUT_MS);
    if (banner.ok) {
      this.complete('target', 'pass', { answer: `allowed; "${banner.banner}" after ${Math.round(performance.now() - since)} ms` });
      if (this.o.idle) {
        const idle = await holdIdle(ws, this.o.idle, this.o.words);
        this.emit('idle', idle.verdict, `an idle tunnel, held at most ${Math.round(this.o.idle.maxMs / 1000)} s`, idle);
      }
    } else {
      const cause =
        banner.kind === 'silent' || banner.kind === 'not-ssh'
          ? `${name} is not an SSH server, or not on that port`
          : `the WSSH server or ${name} ended the tunnel before the SSH server spoke`;
      if (this.o.targetGiven === false) this.complete('target', 'skip', { answer: `${banner.reason} (no target given)` });
      else this.complete('target', 'fail', { answer: banner.reason, cause, fix: `check the host and port of the target (${name})` });
    }
    ws.removeAllListeners('message');
    ws.on('error', () => {});
    ws.close(1000);
    setTimeout(() => ws.terminate(), 1000).unref();
  }
}

function proxyOpened(
  event: Extract<DialEvent, { kind: 'proxy-open' }>,
  answer: Extract<DialEvent, { kind: 'proxy-answer' }> | undefined,
  user?: string,
): string {
  const asked = answer?.status === 407 ? `407 first (offers ${answer.offered.join(', ') || 'nothing it names'}), then ` : '';
  const skipped = event.attempts.filter((a) => !a.refused && a.reason).map((a) => `${a.scheme}: ${a.reason}`);
  const refused = event.attempts.filter((a) => a.refused).map((a) => `${a.scheme} refused`);
  const how =
    event.scheme === undefined
      ? 'no sign-in asked'
      : event.scheme === 'Negotiate'
        ? 'signed in with Negotiate (a Kerberos ticket)'
        : `signed in with ${event.scheme}${user ? ` as ${user}` : ''}`;
  return `${asked}200: tunnel open, ${how}${[...skipped, ...refused].length ? ` (${[...skipped, ...refused].join('; ')})` : ''}`;
}

/** The user of a proxy URL (never its password), for "signed in as". */
function proxyUser(route: ProxyRoute | undefined): string | undefined {
  if (!route) return undefined;
  try {
    const user = new URL(routeUrl(route)).username;
    return user ? decodeURIComponent(user) : undefined;
  } catch {
    return undefined;
  }
}

/** A proxy route's URL (a PAC answer's or the system's route carries its sign-in rules beside it). */
function routeUrl(route: Exclude<ProxyRoute, false>): string {
  return typeof route === 'string' ? route : route.url;
}

function unbracket(host: string): string {
  return host.replace(/^\[|\]$/g, '');
}
