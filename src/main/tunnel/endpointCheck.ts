/**
 * The endpoint editor's "Test": open a tunnel through the endpoint to a host
 * the user names and wait for the SSH server's identification line
 * (`SSH-2.0-…`, RFC 4253 §4.2, read by core/doctor/sshBanner.ts), timing the
 * way there. Nothing is sent: the server speaks first in SSH, so the banner
 * proves the whole path works.
 */
import WebSocket from 'ws';
import type { Endpoint } from '../../shared/endpoint';
import { dialRoutes } from '../../core/dial/proxyRoutes';
import { TargetError, parseTarget } from '../../shared/target';
import type { EndpointTrust, ProxySetting, TestResult } from '../../shared/ipc';
import { appEndpointSettings, loadTrust } from '../settings/endpointOptions';
import { EndpointPlan, ProxySignIn, SystemProxyAnswer, planDial } from '../../core/dial/endpointPlan';
import type { TrustOptions } from '../../core/dial/trust/trust';
import type { ResolvedEndpoint } from '../settings/settingsEditor';
import { errorText } from '../settings/configRemedies';
import { awaitBanner } from '../../core/doctor/sshBanner';

/** How long "Test" waits for the banner by default, in ms: a dial plus a server's first line. */
export const DEFAULT_TEST_TIMEOUT_MS = 10_000;

export interface EndpointTestOptions {
  /** How long the whole test may take, in ms. @default {@link DEFAULT_TEST_TIMEOUT_MS} */
  timeoutMs?: number;
  /** The endpoint's proxy setting. @default 'system' */
  proxy?: ProxySetting;
  /** The endpoint's TLS trust (its CA file is read for the test). */
  trust?: EndpointTrust;
  /** The system's proxy for a URL (Electron's `session.resolveProxy`), for proxy 'system'. */
  resolveSystemProxy?: SystemProxyAnswer;
  /** How to sign in to the proxy. @default { mode: 'windows' } */
  proxyAuth?: ProxySignIn;
  /** The user approved the custom proxy for their Windows sign-in. @default false */
  proxyWindowsSignIn?: boolean;
  /** The passphrase of the endpoint's PKCS#12 client certificate. */
  clientPassphrase?: string;
}

/**
 * The plan for a one-off dial of an endpoint of the app ("Test", "Diagnose"),
 * its CA file and client certificate read now: as the tunnel's.
 * @throws {Error} a file that cannot be read, a client certificate that cannot be used.
 */
export async function appPlan(
  endpoint: Pick<ResolvedEndpoint, 'proxy' | 'proxyAuth' | 'proxyWindowsSignIn' | 'trust' | 'clientPassphrase'>,
  options: { resolveSystemProxy?: SystemProxyAnswer; handshakeTimeoutMs?: number },
): Promise<{ plan: EndpointPlan; trust: TrustOptions }> {
  const trust = await loadTrust(endpoint.trust, endpoint.clientPassphrase);
  const { proxy, proxyAuth, proxyWindowsSignIn } = endpoint;
  const settings = appEndpointSettings(() => ({ proxy, proxyAuth, proxyWindowsSignIn }), trust, options);
  return { plan: planDial(settings), trust };
}

export async function testEndpoint(endpoint: Endpoint, targetText: string, options: EndpointTestOptions = {}): Promise<TestResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS;
  let target;
  try {
    if (targetText.trim() === '') throw new TargetError('name the SSH host to reach, e.g. db1.lan or db1.lan:2222');
    target = parseTarget(targetText.trim());
  } catch (err) {
    if (err instanceof TargetError) return { ok: false, reason: err.message, totalMs: 0 };
    throw err;
  }
  let ws: WebSocket;
  try {
    const { plan } = await appPlan(
      {
        proxy: options.proxy ?? 'system',
        proxyAuth: options.proxyAuth ?? { mode: 'windows' },
        proxyWindowsSignIn: options.proxyWindowsSignIn === true,
        trust: options.trust ?? {},
        clientPassphrase: options.clientPassphrase,
      },
      { resolveSystemProxy: options.resolveSystemProxy, handshakeTimeoutMs: timeoutMs },
    );
    ws = await dialRoutes(endpoint, target, await plan.resolveProxy(endpoint), plan.dial);
  } catch (err) {
    return { ok: false, reason: errorText(err as Error), totalMs: elapsed() };
  }
  const connectMs = elapsed();
  const outcome = await awaitBanner(ws, targetText.trim(), Math.max(1, timeoutMs - connectMs));
  ws.removeAllListeners('message');
  ws.on('error', () => {});
  ws.close(1000);
  setTimeout(() => ws.terminate(), 1000).unref();
  if (outcome.ok) return { ok: true, banner: outcome.banner, connectMs, totalMs: elapsed() };
  if (outcome.kind === 'silent') {
    return {
      ok: false,
      reason: `the tunnel opened in ${connectMs} ms, but no SSH banner came within ${timeoutMs} ms: is ${targetText.trim()} an SSH server?`,
      totalMs: elapsed(),
    };
  }
  return { ok: false, reason: outcome.reason, totalMs: elapsed() };
}
