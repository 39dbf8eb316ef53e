// The routes a PAC answer gives, in order, and the dial that takes them one
// after the other on real sockets: an unreachable proxy, or one that takes
// the connection and never answers, is skipped for the next route; a proxy
// that answers and refuses is not (its verdict stands).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { parseEndpoint } from '../../src/shared/endpoint';
import { TunnelError } from '../../src/core/tunnel/tunnelError';
import { dialRoutes } from '../../src/core/dial/proxyRoutes';
import { describeRoutes, parsePacAnswer, type ProxyRoute } from '../../src/core/upstream/routes';
import { parseTarget } from '../../src/shared/target';

test('PAC answers: every usable entry in order, SOCKS skipped, repeats dropped, empty is DIRECT', () => {
  assert.deepEqual(parsePacAnswer('PROXY a:3128; PROXY b:3128; DIRECT'), ['http://a:3128', 'http://b:3128', false]);
  assert.deepEqual(parsePacAnswer('HTTPS s:443;SOCKS5 x:1080;  HTTP h:80 ;'), ['https://s:443', 'http://h:80']);
  assert.deepEqual(parsePacAnswer('DIRECT; PROXY a:1; DIRECT; PROXY a:1'), [false, 'http://a:1']);
  assert.deepEqual(parsePacAnswer(''), [false]);
  assert.deepEqual(parsePacAnswer('proxy a:1'), ['http://a:1']);
  // Electron's session.resolveProxy answers (these were proxyFromPac's cases, which took the first entry only).
  assert.deepEqual(parsePacAnswer('DIRECT'), [false]);
  assert.deepEqual(parsePacAnswer('PROXY proxy.corp:8080; DIRECT'), ['http://proxy.corp:8080', false]);
  assert.deepEqual(parsePacAnswer('HTTPS secure.corp:443'), ['https://secure.corp:443']);
  assert.deepEqual(parsePacAnswer('SOCKS5 s:1080; PROXY p:3128'), ['http://p:3128']);
  assert.deepEqual(parsePacAnswer('SOCKS s:1080; DIRECT'), [false]);
  assert.throws(() => parsePacAnswer('SOCKS5 s:1080'), /has no HTTP proxy and no DIRECT/);
  assert.throws(
    () => parsePacAnswer('SOCKS5 s:1080', "the PAC file x.pac's answer"),
    /^ProxyConfigError: the PAC file x\.pac's answer "SOCKS5 s:1080" has no HTTP proxy and no DIRECT/,
  );
  assert.equal(describeRoutes(['http://alice:pw@a:1', false]), 'http://alice:***@a:1, then DIRECT');
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A WebSocket server on loopback that accepts every upgrade, as the endpoint the routes lead to. */
async function wsEndpoint(t: TestContext) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  t.after(() => new Promise((resolve) => wss.close(resolve)));
  return parseEndpoint(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/ssh`);
}

test('dialRoutes: an unreachable proxy is skipped, a refusing one is not', async (t) => {
  const endpoint = await wsEndpoint(t);
  const target = parseTarget('db1.lan');
  const down = await closedPort();
  // A proxy that answers every CONNECT with 403.
  const refusing = http.createServer();
  refusing.on('connect', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => refusing.close(resolve)));
  const refusingUrl = `http://127.0.0.1:${(refusing.address() as net.AddressInfo).port}`;

  const fallbacks: Array<[ProxyRoute, ProxyRoute]> = [];
  const ws = await dialRoutes(endpoint, target, [`http://127.0.0.1:${down}`, false], { onFallback: (failed, _reason, next) => fallbacks.push([failed, next]) });
  ws.terminate();
  assert.deepEqual(fallbacks, [[`http://127.0.0.1:${down}`, false]]);

  await assert.rejects(dialRoutes(endpoint, target, [refusingUrl, false]), (err: TunnelError) => {
    assert.equal(err.code, 'PROXY_403');
    assert.match(err.message, /refused to connect to 127\.0\.0\.1:\d+ \(403 Forbidden\)/);
    return true;
  });

  await assert.rejects(dialRoutes(endpoint, target, [`http://127.0.0.1:${down}`, `http://localhost:${down}`]), (err: TunnelError) => {
    assert.equal(err.code, 'PROXY_UNREACHABLE');
    assert.match(
      err.message,
      new RegExp(
        `^connection refused by the HTTP proxy at http://localhost:${down}: .* \\(tried before: connection refused by the HTTP proxy at http://127\\.0\\.0\\.1:${down}`,
      ),
    );
    return true;
  });
  const single = await dialRoutes(endpoint, target, false);
  single.terminate();
});

/**
 * A proxy that answers each request on a connection from a script: the
 * request head's answer in turn, `null` for silence from then on (it still
 * reads, and so sees the dial's FIN). `open()` counts its connections.
 */
async function scriptedProxy(t: TestContext, answers: Array<string | null>): Promise<{ hostPort: string; open(): number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    let turn = 0;
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      let end;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1 && turn < answers.length) {
        buffered = buffered.slice(end + 4);
        const answer = answers[turn++];
        if (answer === null) {
          turn = answers.length; // silent for good
          return;
        }
        socket.write(answer);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { hostPort: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, open: () => sockets.size };
}

/**
 * The dials' deadline. What it says depends on how far the dial got (the
 * proxy's 200 or 407 is in, or not), and the next route must open within
 * it: long enough that a busy machine gets there first.
 */
const HANDSHAKE_MS = 2000;

test('dialRoutes: a proxy that takes the connection and never answers is left for the next route at the deadline', async (t) => {
  const endpoint = await wsEndpoint(t);
  // Accepts, reads, never writes a byte: an overloaded or wedged proxy.
  const silent = await scriptedProxy(t, [null]);
  const silentUrl = `http://${silent.hostPort}`;

  const fallbacks: Array<[ProxyRoute, string, ProxyRoute]> = [];
  const ws = await dialRoutes(endpoint, parseTarget('db1.lan'), [silentUrl, false], {
    handshakeTimeoutMs: HANDSHAKE_MS,
    onFallback: (failed, reason, next) => fallbacks.push([failed, reason, next]),
  });
  ws.terminate();
  assert.deepEqual(fallbacks, [[silentUrl, `the HTTP proxy at ${silentUrl} did not open the tunnel within 2 s`, false]]);
  // The abandoned attempt's connection to the silent proxy is closed, not left open.
  const deadline = Date.now() + 10_000;
  while (silent.open() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(silent.open(), 0);
});

test('dialRoutes: a proxy that answered is not left for the next route when what follows is slow', async (t) => {
  const endpoint = await wsEndpoint(t);
  const target = parseTarget('db1.lan');
  const fallbacks: ProxyRoute[] = [];
  const onFallback = (failed: ProxyRoute) => fallbacks.push(failed);

  // The tunnel opened (200), then nothing answers the upgrade: the endpoint's (or the proxy's relaying) slowness, a plain timeout.
  const { hostPort: opened } = await scriptedProxy(t, ['HTTP/1.1 200 Connection established\r\n\r\n', null]);
  await assert.rejects(dialRoutes(endpoint, target, [`http://${opened}`, false], { handshakeTimeoutMs: HANDSHAKE_MS, onFallback }), (err: TunnelError) => {
    assert.equal(err.code, 'TIMEOUT');
    assert.match(
      err.message,
      new RegExp(
        `^the WebSocket handshake with ws://127\\.0\\.0\\.1:\\d+/ssh through the HTTP proxy at http://${opened.replace(/\./g, '\\.')} timed out after 2 s$`,
      ),
    );
    return true;
  });

  // It asked who we are (407, NTLM) and did not answer the sign-in: its sign-in did not finish.
  const { hostPort: asking } = await scriptedProxy(t, [
    'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n',
    null,
  ]);
  await assert.rejects(
    dialRoutes(endpoint, target, [`http://alice:pw@${asking}`, false], { handshakeTimeoutMs: HANDSHAKE_MS, onFallback }),
    (err: TunnelError) => {
      assert.equal(err.code, 'PROXY_SIGN_IN_TIMEOUT');
      assert.equal(err.status, 504);
      assert.equal(err.message, `signing in to the HTTP proxy at http://alice:***@${asking} (it asked, with a 407) did not finish within 2 s`);
      return true;
    },
  );
  assert.deepEqual(fallbacks, [], 'neither was skipped for DIRECT');
});
