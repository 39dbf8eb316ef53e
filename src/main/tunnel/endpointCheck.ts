/**
 * The endpoint editor's "Test": open a tunnel through the endpoint to a host
 * the user names and wait for the SSH server's identification line
 * (`SSH-2.0-…`, RFC 4253 §4.2), timing the way there. Nothing is sent: the
 * server speaks first in SSH, so the banner proves the whole path works.
 */
import WebSocket from 'ws';
import type { Endpoint } from '../../shared/endpoint';
import { dialRoutes } from '../../core/dial/proxyRoutes';
import { TargetError, parseTarget } from '../../shared/target';
import type { EndpointTrust, ProxySetting, TestResult } from '../../shared/ipc';
import { appEndpointSettings, loadTrust } from '../settings/endpointOptions';
import { ProxySignIn, SystemProxyAnswer, planDial } from '../../core/dial/endpointPlan';
import { errorText } from '../settings/configRemedies';
import { peerText } from '../../core/tunnel/peerText';

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

/** RFC 4253 limits the identification line to 255 bytes; lines before it are allowed. */
const MAX_PRELUDE_BYTES = 8192;

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
    const trust = await loadTrust(options.trust ?? {}, options.clientPassphrase);
    const plan = planDial(
      appEndpointSettings(() => ({ proxy: options.proxy ?? 'system', proxyAuth: options.proxyAuth, proxyWindowsSignIn: options.proxyWindowsSignIn }), trust, {
        resolveSystemProxy: options.resolveSystemProxy,
        handshakeTimeoutMs: timeoutMs,
      }),
    );
    ws = await dialRoutes(endpoint, target, await plan.resolveProxy(endpoint), plan.dial);
  } catch (err) {
    return { ok: false, reason: errorText(err as Error), totalMs: elapsed() };
  }
  const connectMs = elapsed();
  const remaining = Math.max(1, timeoutMs - connectMs);
  return new Promise<TestResult>((resolve) => {
    let received = Buffer.alloc(0);
    const finish = (result: TestResult) => {
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.removeAllListeners('close');
      ws.on('error', () => {});
      ws.close(1000);
      setTimeout(() => ws.terminate(), 1000).unref();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          reason: `the tunnel opened in ${connectMs} ms, but no SSH banner came within ${timeoutMs} ms: is ${targetText.trim()} an SSH server?`,
          totalMs: elapsed(),
        }),
      remaining,
    );
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        finish({ ok: false, reason: `the WSSH server said: ${peerText(data, 200)}`, totalMs: elapsed() });
        return;
      }
      received = Buffer.concat([received, data]);
      for (const line of completeLines(received)) {
        if (line.startsWith('SSH-')) {
          finish({ ok: true, banner: peerText(line, 255), connectMs, totalMs: elapsed() });
          return;
        }
      }
      if (received.length > MAX_PRELUDE_BYTES) {
        finish({
          ok: false,
          reason: `${targetText.trim()} answered, but not with an SSH banner: "${printable(received.subarray(0, 60))}"`,
          totalMs: elapsed(),
        });
      }
    });
    ws.on('close', (code: number) => {
      const got = received.length > 0 ? `; it sent "${printable(received.subarray(0, 60))}"` : '';
      finish({ ok: false, reason: `the tunnel closed (WebSocket ${code}) before an SSH banner came${got}`, totalMs: elapsed() });
    });
    ws.on('error', (err: Error) => finish({ ok: false, reason: `the tunnel failed: ${err.message}`, totalMs: elapsed() }));
    ws.resume();
  });
}

function completeLines(buffer: Buffer): string[] {
  const text = buffer.toString('latin1');
  const end = text.lastIndexOf('\n');
  if (end < 0) return [];
  return text
    .slice(0, end)
    .split('\n')
    .map((l) => l.replace(/\r$/, ''));
}

function printable(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}
