// The dial against a server without the WSSH-Server mark (an original wssh
// server): held until the first frame; a text frame or a close before any
// byte is the refusal; the frames that ended the hold are given to the relay
// first, in order, with what came behind them. A marked server is not held.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { PassThrough } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { dial } from '../../src/core/dial/dialer';
import { TunnelError } from '../../src/core/tunnel/tunnelError';
import { parseEndpoint } from '../../src/shared/endpoint';
import { Relay } from '../../src/core/tunnel/relay';
import { SERVER_MARK_HEADER, SERVER_MARK_VALUE, textRefusal } from '../../src/core/dial/legacyServer';

const FRAMES = Array.from({ length: 40 }, () => crypto.randomBytes(8 * 1024));
let server: http.Server;
let port: number;

before(async () => {
  server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  wss.on('headers', (headers, req) => {
    if ((req.url ?? '').includes('/marked-')) headers.push(`${SERVER_MARK_HEADER}: ${SERVER_MARK_VALUE}`);
  });
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const what = (req.url ?? '')
        .split('/')
        .pop()!
        .replace(/^marked-/, '');
      if (what === 'burst') {
        // Many frames, a text frame and a close, all at once: they may arrive in one chunk.
        for (const f of FRAMES) ws.send(f, { binary: true });
        ws.send('the target went away');
        ws.close(1000);
      } else if (what === 'denied') {
        ws.send('Oops:Error: Invalid host', () => ws.close());
      } else if (what === 'noisy') {
        ws.send(`Oops:\u0007${'x'.repeat(500)}\r\nsecond line`, () => ws.close());
      } else if (what === 'close') {
        ws.close(1011, 'nope');
      }
      // 'silent': says nothing.
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const endpoint = () => parseEndpoint(`ws://127.0.0.1:${port}/ssh`);
const target = (host: string) => ({ host, port: 22 });

async function refusal(promise: Promise<unknown>): Promise<TunnelError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TunnelError, String(err));
    return err;
  }
  throw new Error('the dial should have failed');
}

test('the frames that ended the hold, and those right behind them, reach the relay in order; then the text', async () => {
  const ws = await dial(endpoint(), target('burst'), { legacyHoldMs: 10_000 });
  const stream = new PassThrough();
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  const relay = new Relay(stream, ws, { keepaliveMs: 0 });
  const texts: string[] = [];
  relay.on('text', (t) => texts.push(t));
  const result = await relay.done;
  assert.ok(Buffer.concat(out).equals(Buffer.concat(FRAMES)), 'every byte, in order');
  assert.deepEqual(texts, ['the target went away']);
  assert.equal(result.toStream, FRAMES.length * 8 * 1024);
});

test('a text frame before any byte: 403 for "Invalid host", 502 otherwise, the text on one line and cut', async () => {
  const denied = await refusal(dial(endpoint(), target('denied')));
  assert.equal(denied.status, 403);
  assert.equal(denied.message, 'the server says: Oops:Error: Invalid host');
  assert.equal(denied.code, 'LEGACY_REFUSAL');
  const noisy = await refusal(dial(endpoint(), target('noisy')));
  assert.equal(noisy.status, 502);
  assert.equal(noisy.message, `the server says: Oops: ${'x'.repeat(194)}…`);
  assert.deepEqual(textRefusal('Oops:Error: connect ECONNREFUSED 127.0.0.1:22'), {
    kind: 'refused',
    refusal: 'unreachable',
    reason: 'the server says: Oops:Error: connect ECONNREFUSED 127.0.0.1:22',
  });
});

test('a close before any byte is a 502 that says what an old server means by it', async () => {
  const err = await refusal(dial(endpoint(), target('close')));
  assert.equal(err.status, 502);
  assert.match(err.message, /^the server closed the tunnel before the SSH server spoke \(WebSocket 1011 nope\)/);
});

test('a silent unmarked server opens after the hold; a marked one at once', async () => {
  const held = await dial(endpoint(), target('silent'), { legacyHoldMs: 300 });
  held.terminate();
  // A hold far longer than the test's deadline: only the mark can make this resolve.
  const marked = await dial(endpoint(), target('marked-silent'), { legacyHoldMs: 600_000 });
  marked.terminate();
  // And a marked server's text frame is a control message on an open tunnel, as before.
  const ws = await dial(endpoint(), target('marked-denied'), { legacyHoldMs: 600_000 });
  const relay = new Relay(new PassThrough(), ws, { keepaliveMs: 0 });
  assert.match((await relay.done).reason, /peer said: Oops:Error: Invalid host/);
});

test('the client going away during the hold ends the dial', async () => {
  const abort = new AbortController();
  const dialing = dial(endpoint(), target('silent'), { legacyHoldMs: 600_000, signal: abort.signal });
  setTimeout(() => abort.abort(), 200);
  const err = await refusal(dialing);
  assert.equal(err.message, 'the client went away');
});
