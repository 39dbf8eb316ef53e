/**
 * Opens the WebSocket of one tunnel: `<endpoint>/<target>`, with Basic auth
 * from the endpoint's credentials and the TLS trust the caller chose.
 *
 * Every way this can fail becomes a TunnelError that carries the HTTP status
 * the local proxy answers with (403 refused by the server, 502 unreachable or
 * broken, 504 timed out) and a one-line reason a person can act on.
 */
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { Endpoint, authorizationHeader, tunnelUrl } from './endpoint';
import type { Target } from './target';

export interface DialOptions {
  /** Extra CA certificates (PEM) to trust for wss://, e.g. a company CA. Verification is never turned off. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** How long the TCP connect, TLS and upgrade together may take. @default 15000 */
  handshakeTimeoutMs?: number;
  /** Largest incoming WebSocket message accepted. @default 1048576 (1 MiB; our peers send frames of at most 64 KiB) */
  maxPayload?: number;
  /** Abandons the dial, e.g. when the client that asked for the tunnel went away. */
  signal?: AbortSignal;
}

/** HTTP status the local proxy should answer with when a tunnel cannot open. */
export type FailureStatus = 400 | 403 | 502 | 504;

export class TunnelError extends Error {
  override name = 'TunnelError';
  constructor(
    readonly status: FailureStatus,
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * Opens the tunnel's WebSocket; resolves once it is open, *paused*: frames
 * that came with the upgrade response (an old server's error text, the SSH
 * banner) would otherwise be emitted before the caller's listeners are on.
 * The Relay resumes it.
 */
export function dial(endpoint: Endpoint, target: Target, options: DialOptions = {}): Promise<WebSocket> {
  const url = tunnelUrl(endpoint, target);
  const auth = authorizationHeader(endpoint.credentials);
  const ws = new WebSocket(url, {
    // SSH is encrypted, so compression would cost CPU for nothing.
    perMessageDeflate: false,
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    headers: auth ? { Authorization: auth } : undefined,
    ca: options.ca,
    followRedirects: false,
  });

  return new Promise((resolve, reject) => {
    const fail = (err: TunnelError) => {
      options.signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners('open');
      ws.on('error', () => {}); // errors after the verdict are consequences
      ws.terminate();
      reject(err);
    };
    const onAbort = () => fail(new TunnelError(502, 'the client went away'));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    ws.once('open', () => {
      ws.pause();
      options.signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners('unexpected-response');
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      readReason(res).then((body) => fail(refusal(endpoint, res.statusCode ?? 0, res.statusMessage, body)));
    });
    ws.once('error', (err) => fail(dialFailure(endpoint, err)));
  });
}

/** The server's reply to a refused upgrade becomes the proxy's status and reason. */
function refusal(endpoint: Endpoint, status: number, statusText = '', body: string): TunnelError {
  const said = `${status} ${statusText}`.trim() + (body ? `: ${body}` : '');
  switch (status) {
    case 401:
      return new TunnelError(403, `the WSSH server at ${endpoint.display} requires authentication (${said})`);
    case 403:
      return new TunnelError(403, `refused by the WSSH server (${said})`);
    case 504:
      return new TunnelError(504, `the WSSH server timed out reaching the target (${said})`);
    case 404:
      return new TunnelError(502, `no WSSH server at ${endpoint.display} (${said}): check the endpoint's path`);
    default:
      return new TunnelError(502, `the WSSH server failed (${said})`);
  }
}

/** Network and TLS errors, named for what they are. */
function dialFailure(endpoint: Endpoint, err: Error & { code?: string }): TunnelError {
  const where = endpoint.display;
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TunnelError(502, `cannot resolve the host of ${where} (${err.code})`);
    case 'ECONNREFUSED':
      return new TunnelError(502, `connection refused by ${where}: is the WSSH server running?`);
    case 'ECONNRESET':
      return new TunnelError(502, `connection to ${where} was reset`);
    case 'ETIMEDOUT':
      return new TunnelError(504, `connection to ${where} timed out`);
    case 'CERT_HAS_EXPIRED':
      return new TunnelError(502, `TLS: the certificate of ${where} has expired`);
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return new TunnelError(502, `TLS: the certificate of ${where} is from an unknown issuer (${err.code}); trust its CA`);
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new TunnelError(502, `TLS: the certificate does not match the host name of ${where}`);
  }
  if (/handshake has timed out/i.test(err.message)) {
    return new TunnelError(504, `the WebSocket handshake with ${where} timed out`);
  }
  return new TunnelError(502, `cannot reach ${where}: ${err.message}`);
}

/** The first line of a refusal's body, bounded: a reason, not a page. */
function readReason(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < 512) body += chunk;
    });
    res.on('end', () => resolve(firstLine(body)));
    res.on('error', () => resolve(firstLine(body)));
    res.on('close', () => resolve(firstLine(body)));
  });
}

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/, 1)[0]?.slice(0, 200) ?? '';
}
