/**
 * Starts and stops the core's CONNECT proxy for the tray app, and turns what
 * happens into the state the tray icon, the tooltip and the window show:
 * stopped, listening, active (carrying traffic), reconnecting (a tunnel's
 * WebSocket broke and is being resumed) or error, with the reason.
 */
import { isLoopbackHost, plainCredentialsWarning } from '../../shared/endpoint';
import { EventEmitter } from 'node:events';
import { ConnectProxy, DEFAULT_PROXY_DRAIN_MS } from '../../core/localProxy/connectProxy';
import type { ProxyCredential } from '../../core/localProxy/socksHandshake';
import type { DialOptions } from '../../core/dial/dialer';
import { TunnelTracker } from '../../core/tunnel/tunnels';
import { REFUSALS } from '../../core/tunnel/refusals';
import type { ListenAddress, LogLevel, Outcome, TunnelInfo, TunnelState } from '../../shared/ipc';
import { EMPTY_TRAFFIC, TRAFFIC_SAMPLE_MS, type TrafficSnapshot } from '../../shared/traffic';
import { TrafficMeter } from './trafficMeter';
import type { ResolvedEndpoint } from '../settings/settingsEditor';
import { appEndpointSettings, loadTrust } from '../settings/endpointOptions';
import { SystemProxyAnswer, planDial } from '../../core/dial/endpointPlan';
import type { ConfigProblem } from '../../core/tunnel/configErrors';
import { EDITOR_LABELS } from '../../shared/editorLabels';
import { editorPlace, errorText, fixPlace, settingOf, withRemedy } from '../settings/configRemedies';
import { LostSessions } from './lostSessions';

export interface TunnelControllerOptions {
  /** The endpoint to use, read at each start and on `endpointChanged()`. */
  resolveEndpoint(): Outcome<ResolvedEndpoint>;
  /** The listen address, read at each start. */
  listenAddress(): ListenAddress;
  /** Receives the log lines (never with a secret). */
  log(level: LogLevel, text: string): void;
  /** How long open tunnels may finish when the tunnel is stopped, in ms. @default {@link DEFAULT_PROXY_DRAIN_MS} */
  drainMs?: number;
  /** How often the connections' byte counters are reported, in ms. @default the tracker's (1 s) */
  bytesIntervalMs?: number;
  /**
   * How often the rates are sampled from the byte counters and `traffic` is
   * emitted while the proxy runs, in ms: the rates' resolution. @default TRAFFIC_SAMPLE_MS (1 s)
   */
  trafficIntervalMs?: number;
  /** Timeouts for the dials (the trust comes from the endpoint's settings). */
  dial?: Pick<DialOptions, 'handshakeTimeoutMs'>;
  /**
   * The system's proxy for a URL, as a PAC-style answer (`PROXY host:port;
   * DIRECT`): Electron's `session.defaultSession.resolveProxy`. Asked for each
   * tunnel of an endpoint whose proxy is 'system'; without it, such an
   * endpoint uses the environment's HTTPS_PROXY / NO_PROXY.
   */
  resolveSystemProxy?: SystemProxyAnswer;
  /**
   * The credential every client must send (proxyCredential.ts), or undefined
   * for none; read at each start and on `credentialChanged()`.
   */
  proxyCredential?(): ProxyCredential | undefined;
  /** How long a lost session's notification waits for others lost with it, in ms. @default DEFAULT_LOST_NOTICE_MS (1 s) */
  lostNoticeMs?: number;
}

interface ControllerEvents {
  state: [state: TunnelState];
  connections: [rows: TunnelInfo[]];
  /** The rates, once per traffic interval while the proxy runs, and once more (empty) when it stops. */
  traffic: [snapshot: TrafficSnapshot];
  /** An error the user must see now (a notification): a new reason, not a repeat; or SSH sessions lost (lostSessions.ts). */
  problem: [title: string, text: string];
}

export class TunnelController extends EventEmitter<ControllerEvents> {
  private proxy: ConnectProxy | undefined;
  private errorReason: string | undefined;
  private errorFix: string | undefined;
  private active: ResolvedEndpoint | undefined;
  private listen: ListenAddress;
  private busy: Promise<unknown> = Promise.resolve();
  /** The credential the running proxy asks for. */
  private credentialInUse: ProxyCredential | undefined;
  private meter: TrafficMeter | undefined;
  private trafficTimer: NodeJS.Timeout | undefined;
  private readonly lost: LostSessions;

  constructor(private readonly options: TunnelControllerOptions) {
    super();
    this.lost = new LostSessions((title, text) => this.emit('problem', title, text), options.lostNoticeMs);
    this.listen = options.listenAddress();
    const resolved = options.resolveEndpoint();
    if (resolved.ok) this.active = resolved.value;
  }

  get running(): boolean {
    return this.proxy !== undefined;
  }

  state(): TunnelState {
    const open = this.proxy?.tracker.size ?? 0;
    const reconnecting = open > 0 ? this.proxy!.tracker.list().filter((t) => t.reconnecting).length : 0;
    // An error needs the user; a reconnecting tunnel only their patience.
    const status = this.errorReason !== undefined ? 'error' : !this.proxy ? 'stopped' : reconnecting > 0 ? 'reconnecting' : open > 0 ? 'active' : 'listening';
    return {
      status,
      running: this.proxy !== undefined,
      reason: this.errorReason,
      fix: this.errorReason !== undefined ? this.errorFix : undefined,
      listen: this.proxy?.address() ? { host: this.listen.host, port: this.proxy.address()!.port } : { ...this.listen },
      endpointName: this.active?.name ?? null,
      endpointDisplay: this.active?.endpoint.display ?? null,
      openTunnels: open,
      reconnecting,
    };
  }

  connections(): TunnelInfo[] {
    return this.proxy?.tracker.list() ?? [];
  }

  /** The rates of the last sample; empty while stopped. */
  traffic(): TrafficSnapshot {
    return this.meter?.current() ?? EMPTY_TRAFFIC;
  }

  start(): Promise<TunnelState> {
    return this.serial(() => this.doStart());
  }

  /** Stops listening; open tunnels get `drainMs` to finish, then are closed. */
  stop(drainMs = this.options.drainMs ?? DEFAULT_PROXY_DRAIN_MS): Promise<TunnelState> {
    return this.serial(() => this.doStop(drainMs));
  }

  toggle(): Promise<TunnelState> {
    return this.running ? this.stop() : this.start();
  }

  /**
   * The computer woke up or the network changed (reconnectTriggers.ts): the
   * open tunnels' WebSockets are probably dead, so each resumable tunnel drops
   * its own and resumes now instead of waiting for missed pings.
   */
  reconnectAll(reason: string): void {
    const proxy = this.proxy;
    if (!proxy) return;
    const resumable = proxy.tracker.list().filter((t) => t.resumes !== undefined).length;
    if (resumable === 0) return;
    this.options.log('info', `${reason}: resuming ${resumable === 1 ? 'the open tunnel' : `the ${resumable} open tunnels`} now`);
    proxy.reconnectAll(reason);
  }

  /**
   * The active endpoint (or its settings) changed: new tunnels use it, open
   * ones go on. A changed keepalive or resume setting applies from the next
   * start (the proxy takes its relay options when it is made).
   */
  endpointChanged(): void {
    const resolved = this.options.resolveEndpoint();
    if (!resolved.ok) {
      this.active = undefined;
      if (this.proxy) this.fail('No usable endpoint', resolved.error);
      else this.emitState();
      return;
    }
    const before = this.active?.endpoint.display;
    const trustOf = (e: ResolvedEndpoint | undefined) => JSON.stringify([e?.trust ?? {}, e?.clientPassphrase ?? '']);
    const trustBefore = trustOf(this.active);
    this.active = resolved.value;
    if (this.proxy && trustBefore !== trustOf(resolved.value)) {
      // The TLS trust is the proxy's for its lifetime: restart it with the new one.
      this.options.log('info', `the trust settings of ${resolved.value.name} changed: restarting the tunnel`);
      void this.serial(async () => {
        await this.doStop(this.options.drainMs ?? DEFAULT_PROXY_DRAIN_MS);
        await this.doStart();
      });
      return;
    }
    if (this.proxy) {
      this.proxy.setEndpoint(resolved.value.endpoint);
      if (before !== resolved.value.endpoint.display)
        this.options.log('info', `endpoint switched to ${resolved.value.name} (${resolved.value.endpoint.display})`);
    }
    this.emitState();
  }

  /** The credential clients must send now (for PuTTY's settings), or undefined for none. */
  proxyCredential(): ProxyCredential | undefined {
    return this.options.proxyCredential?.();
  }

  /**
   * The local proxy credential may have changed (turned on or off, a new
   * password): the proxy holds it for its lifetime, so a running one is
   * restarted.
   */
  credentialChanged(): void {
    if (!this.running) return;
    const next = this.proxyCredential();
    if (JSON.stringify(next ?? null) === JSON.stringify(this.credentialInUse ?? null)) return;
    const what = !next ? 'proxy sign-in turned off' : this.credentialInUse ? 'a new proxy sign-in password' : 'proxy sign-in turned on';
    this.options.log('info', `${what}: restarting the tunnel`);
    void this.serial(async () => {
      await this.doStop(this.options.drainMs ?? DEFAULT_PROXY_DRAIN_MS);
      await this.doStart();
    });
  }

  /** The listen address changed: a running proxy is restarted on it. */
  async listenChanged(): Promise<TunnelState> {
    const next = this.options.listenAddress();
    if (next.host === this.listen.host && next.port === this.listen.port) return this.state();
    if (!this.running) {
      this.listen = next;
      this.emitState();
      return this.state();
    }
    await this.stop();
    return this.start();
  }

  private async doStart(): Promise<TunnelState> {
    if (this.proxy) return this.state();
    this.errorReason = undefined;
    this.listen = this.options.listenAddress();
    const resolved = this.options.resolveEndpoint();
    if (!resolved.ok) {
      this.active = undefined;
      this.fail('Cannot start the tunnel', resolved.error);
      return this.state();
    }
    this.active = resolved.value;
    let trust;
    try {
      trust = await loadTrust(resolved.value.trust, resolved.value.clientPassphrase);
    } catch (err) {
      const setting = settingOf(err);
      this.fail('Cannot start the tunnel', `${resolved.value.name}: ${errorText(err as Error)}`, setting && fixPlace(setting, resolved.value.name));
      return this.state();
    }
    const tracker = new TunnelTracker({ bytesIntervalMs: this.options.bytesIntervalMs });
    let credential: ProxyCredential | undefined;
    try {
      credential = this.proxyCredential();
    } catch (err) {
      this.fail('Cannot start the tunnel', `the local proxy credential: ${(err as Error).message}`);
      return this.state();
    }
    const plan = planDial(
      // Per tunnel, with the endpoint's proxy setting as it is now.
      appEndpointSettings(() => this.active, trust, {
        resolveSystemProxy: this.options.resolveSystemProxy,
        handshakeTimeoutMs: this.options.dial?.handshakeTimeoutMs,
        keepaliveMs: resolved.value.keepaliveMs,
        // A route skipped for the next; said once: Negotiate to the HTTP proxy is off (the kerberos module did not load), and why.
        log: (line) => this.options.log('warn', line),
      }),
    );
    const proxy = new ConnectProxy({
      credential,
      endpoint: resolved.value.endpoint,
      tracker,
      ...plan.dial,
      resolveProxy: plan.resolveProxy,
      keepaliveMs: plan.keepaliveMs,
      resume: resolved.value.resume,
    });
    this.watch(proxy);
    // The proxy re-emits its server's errors, a failed listen() included: that
    // one is reported once, by its reason below; later ones as they come.
    proxy.on('error', (err) => {
      if (this.proxy === proxy) this.fail('Proxy error', err.message);
    });
    const { host, port } = this.listen;
    try {
      await proxy.listen(port, host);
    } catch (err) {
      await proxy.close().catch(() => {});
      this.fail('Cannot start the tunnel', listenFailure(err as NodeJS.ErrnoException, host, port));
      return this.state();
    }
    this.proxy = proxy;
    this.credentialInUse = credential;
    this.startTraffic(proxy);
    this.options.log('info', `listening on ${host}:${proxy.address()!.port}, endpoint ${resolved.value.name} (${resolved.value.endpoint.display})`);
    if (credential) this.options.log('info', `clients must sign in to the proxy as ${credential.user} (Status view: Local proxy sign-in)`);
    else this.options.log('info', 'clients need not sign in to the proxy: every account on this computer can use it (Status view: Local proxy sign-in)');
    if (!isLoopbackHost(host)) {
      this.options.log('warn', `the proxy listens on ${host}, not loopback: other machines can tunnel through it with this endpoint's credentials`);
    }
    const plain = plainCredentialsWarning(resolved.value.endpoint);
    if (plain) this.options.log('warn', plain);
    this.emitState();
    return this.state();
  }

  private async doStop(drainMs: number): Promise<TunnelState> {
    const proxy = this.proxy;
    this.errorReason = undefined;
    if (!proxy) {
      this.emitState();
      return this.state();
    }
    this.proxy = undefined;
    await proxy.close(drainMs);
    this.lost.flush();
    this.stopTraffic();
    this.options.log('info', 'stopped');
    this.emitState();
    this.emit('connections', []);
    return this.state();
  }

  /**
   * Samples the counters on a timer, never per chunk: a busy relay only adds
   * to two numbers (see TrafficMeter).
   */
  private startTraffic(proxy: ConnectProxy): void {
    const meter = new TrafficMeter();
    this.meter = meter;
    proxy.tracker.on('close', (t) => meter.closed(t));
    this.trafficTimer = setInterval(
      () => this.emit('traffic', meter.sample(proxy.tracker.list(), Date.now())),
      this.options.trafficIntervalMs ?? TRAFFIC_SAMPLE_MS,
    );
    this.trafficTimer.unref();
  }

  private stopTraffic(): void {
    clearInterval(this.trafficTimer);
    this.trafficTimer = undefined;
    this.meter = undefined;
    this.emit('traffic', EMPTY_TRAFFIC);
  }

  private watch(proxy: ConnectProxy): void {
    const { tracker } = proxy;
    const rows = () => this.emit('connections', tracker.list());
    tracker.on('open', (t) => {
      this.options.log('info', `tunnel ${t.id} open: ${t.target} via ${t.via} (client ${t.client})`);
      // A tunnel that opens proves the endpoint works again.
      if (this.errorReason !== undefined && this.proxy === proxy) this.errorReason = undefined;
      rows();
      this.emitState();
    });
    tracker.on('bytes', rows);
    // A resumable tunnel broke or resumed: the reconnecting state and its row's mark. Tunnels that
    // break together (reconnectAll, one network gone) are told in one update, not one each.
    let stateQueued = false;
    tracker.on('state', () => {
      if (stateQueued) return;
      stateQueued = true;
      setImmediate(() => {
        stateQueued = false;
        rows();
        this.emitState();
      });
    });
    tracker.on('close', (t) => {
      const resumed = t.resumes ? `, resumed ${t.resumes} time${t.resumes === 1 ? '' : 's'}` : '';
      const what = `${t.target}, up ${t.up} B, down ${t.down} B, ${(t.durationMs / 1000).toFixed(1)} s${resumed} (${t.reason})`;
      if (t.lost) this.options.log('error', `tunnel ${t.id} lost its SSH session: ${what}`);
      else this.options.log('info', `tunnel ${t.id} closed: ${what}`);
      this.lost.closed(t);
      rows();
      this.emitState();
    });
    tracker.on('refused', (r) => {
      const what = `${r.target || 'request'} from ${r.client}: ${r.status} ${r.reason}`;
      // By the refusal's code (core/tunnel/refusals.ts): the endpoint or the target
      // unreachable, TLS, missing credentials need the user; a malformed
      // request or a denied host is the SSH client's business.
      if (REFUSALS[r.code].alert && this.proxy === proxy) {
        this.options.log('error', `tunnel refused: ${what}`);
        this.fail('Tunnel failed', `${r.target}: ${withRemedy(r.reason, r.setting)}`, whereToFix(r.reason, this.active?.name, r.setting));
      } else {
        this.options.log('warn', `tunnel refused: ${what}`);
      }
    });
  }

  private fail(title: string, reason: string, fix?: string): void {
    const repeated = this.errorReason === reason;
    this.errorReason = reason;
    this.errorFix = fix;
    if (!repeated) {
      this.options.log('error', `${title}: ${reason}`);
      this.emit('problem', title, fix ? `${reason}. Fix it in ${fix}.` : reason);
    }
    this.emitState();
  }

  private emitState(): void {
    this.emit('state', this.state());
  }

  /** Start/stop calls run one after the other, never interleaved. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.busy.then(work, work);
    this.busy = next.catch(() => {});
    return next;
  }
}

/**
 * Where in the app a tunnel's failure is fixed, when it is the endpoint's
 * setting: the one the refusal names (`setting`: a trust or proxy setting
 * that cannot work, a client certificate the gateway wanted); else, from
 * what the HTTP proxy answered, the proxy sign-in for a proxy that asked for
 * or refused credentials, the proxy choice for one that cannot be reached or
 * refused the tunnel.
 */
export function whereToFix(reason: string, endpointName: string | undefined, setting?: ConfigProblem): string | undefined {
  if (setting) return fixPlace(setting, endpointName);
  if (/the HTTP proxy at .*(requires authentication|refused the credentials|credentials|sign-in|Negotiate|NTLM|Kerberos)/i.test(reason)) {
    return editorPlace(endpointName, EDITOR_LABELS.proxySignIn);
  }
  if (/HTTP proxy|PAC|proxy setting/i.test(reason)) return editorPlace(endpointName, EDITOR_LABELS.proxy);
  return undefined;
}

/** A listen error in words: the common ones say what to do. */
function listenFailure(err: NodeJS.ErrnoException, host: string, port: number): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use by another program (another WSSH or proxy?): stop it or change the listen port`;
    case 'EACCES':
      return `not allowed to listen on ${host}:${port}: choose a port above 1024 or another address`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this computer: listen on 127.0.0.1`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the listen host "${host}" cannot be resolved`;
    default:
      return `cannot listen on ${host}:${port}: ${err.message}`;
  }
}
