// Clients for the server tests: a WebSocket upgrade that reports either the
// open tunnel or the refusal (status, headers, body), an echo round trip on a
// tunnel, and raw HTTP on a plain socket.

import net from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';

export interface Attempt {
  ws?: WebSocket;
  status?: number;
  headers?: IncomingHttpHeaders;
  body?: string;
  /** A network error instead of an HTTP answer. */
  error?: string;
}

/** Tries an upgrade; resolves with the open WebSocket or the refusal. */
export function attempt(url: string, headers: Record<string, string> = {}): Promise<Attempt> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    ws.once('error', (err) => resolve({ error: err.message }));
  });
}

/** The Authorization header value for HTTP Basic credentials. */
export function basic(user: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${user}:${secret}`, 'utf8').toString('base64');
}

/** Sends `data` on a tunnel to an echo server and resolves with what came back. */
export function echoOnce(ws: WebSocket, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onMessage = (chunk: Buffer) => {
      got += chunk.toString();
      if (got.length >= data.length) {
        ws.off('message', onMessage);
        resolve(got);
      }
    };
    ws.on('message', onMessage);
    ws.once('close', () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
    ws.send(Buffer.from(data));
  });
}

/** Resolves with the close code and reason once `ws` closes. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Sends `request` as is on a new TCP connection; resolves with all the server answered before it closed. */
export function rawRequest(port: number, request: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(answer)}`));
    }, timeoutMs);
    socket.on('data', (c) => (answer += c.toString('latin1')));
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.write(request);
  });
}
