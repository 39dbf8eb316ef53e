// The HTTP proxy between the client and its endpoint: which one a dial uses
// (explicit, environment, NO_PROXY, PAC answers), how it is shown (never the
// password), and dials through a small CONNECT proxy on a real socket: the
// CONNECT it receives, its refusals and silences as clear errors.
// (Against a real proxy server, tinyproxy: test/e2e/proxy.test.ts.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { SERVER_MARK_HEADER, SERVER_MARK_VALUE } from '../../src/core/dial/legacyServer';
import { ConnectProxy } from '../../src/core/localProxy/connectProxy';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, dial } from '../../src/core/dial/dialer';
import { TunnelError } from '../../src/core/tunnel/tunnelError';
import { parseEndpoint } from '../../src/shared/endpoint';
import { ProxyConfigError, displayProxy, parseProxyUrl, resolveProxy } from '../../src/core/upstream/upstreamProxy';
import { rejectionOf } from '../fixtures/outcomes';

const wss = parseEndpoint('wss://gw.example.com/ssh');
const ws = parseEndpoint('ws://gw.example.com:8080/ssh');

test('environment: HTTPS_PROXY for wss://, HTTP_PROXY for ws://, lower case first, ALL_PROXY last', () => {
  const env = { HTTPS_PROXY: 'http://secure-proxy:3128', HTTP_PROXY: 'http://plain-proxy:3128' };
  assert.equal(resolveProxy(wss, undefined, env)?.url.href, 'http://secure-proxy:3128/');
  assert.equal(resolveProxy(wss, undefined, env)?.source, 'HTTPS_PROXY');
  assert.equal(resolveProxy(ws, undefined, env)?.url.href, 'http://plain-proxy:3128/');
  assert.equal(resolveProxy(ws, undefined, env)?.source, 'HTTP_PROXY');
  assert.equal(resolveProxy(wss, undefined, { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' })?.url.host, 'lower:1');
  assert.equal(resolveProxy(wss, undefined, { HTTP_PROXY: 'http://plain-proxy:3128' }), undefined, 'HTTP_PROXY is not for wss://');
  assert.equal(resolveProxy(wss, undefined, { ALL_PROXY: 'http://all:3128' })?.source, 'ALL_PROXY');
  assert.equal(resolveProxy(wss, undefined, {}), undefined);
});

test('environment: a value without a scheme is http://, not TLS to the proxy', () => {
  const proxy = resolveProxy(wss, undefined, { HTTPS_PROXY: 'proxy.corp:8080' });
  assert.equal(proxy?.url.href, 'http://proxy.corp:8080/');
  const withAuth = resolveProxy(wss, undefined, { https_proxy: 'alice:s%40cret@proxy.corp:8080' });
  assert.equal(withAuth?.url.href, 'http://alice:s%40cret@proxy.corp:8080/');
  assert.equal(withAuth?.display, 'http://alice:***@proxy.corp:8080');
});

test('NO_PROXY: exact names, domain suffixes, ports, and *', () => {
  const proxyFor = (endpoint: string, noProxy: string) =>
    resolveProxy(parseEndpoint(endpoint), undefined, { HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://p:3128', NO_PROXY: noProxy })?.url.host;
  assert.equal(proxyFor('wss://gw.example.com/ssh', 'gw.example.com'), undefined);
  assert.equal(proxyFor('wss://gw.example.com/ssh', '.example.com'), undefined);
  assert.equal(proxyFor('wss://gw.example.com/ssh', '*.example.com'), undefined);
  assert.equal(proxyFor('wss://gw.example.com/ssh', 'example.org,localhost'), 'p:3128');
  assert.equal(proxyFor('wss://gw.example.com/ssh', 'gw.example.com:8443'), 'p:3128', 'another port');
  assert.equal(proxyFor('ws://gw.example.com:8080/ssh', 'gw.example.com:8080'), undefined);
  assert.equal(proxyFor('wss://localhost:4443/ssh', 'localhost'), undefined);
  assert.equal(proxyFor('wss://gw.example.com/ssh', '*'), undefined);
  assert.equal(resolveProxy(wss, undefined, { HTTPS_PROXY: 'http://p:3128', no_proxy: 'gw.example.com' }), undefined, 'lower-case no_proxy too');
});

test('explicit: a URL wins over the environment, false means direct whatever it says', () => {
  const env = { HTTPS_PROXY: 'http://env-proxy:3128', NO_PROXY: 'gw.example.com' };
  assert.equal(resolveProxy(wss, 'http://mine:8080', env)?.url.host, 'mine:8080', 'NO_PROXY is for the environment only');
  assert.equal(resolveProxy(wss, 'http://mine:8080', env)?.source, 'option');
  assert.equal(resolveProxy(wss, false, { HTTPS_PROXY: 'http://env-proxy:3128' }), undefined);
});

test('proxy URLs: what is accepted, what is refused, and the password never shown', () => {
  assert.equal(parseProxyUrl('proxy:3128').url.href, 'http://proxy:3128/');
  assert.equal(parseProxyUrl('https://proxy:443').url.protocol, 'https:');
  assert.equal(parseProxyUrl('http://[::1]:3128').url.hostname, '[::1]');
  assert.equal(displayProxy(new URL('http://bob:hunter2@proxy:3128')), 'http://bob:***@proxy:3128');
  assert.equal(displayProxy(new URL('http://:hunter2@proxy:3128')), 'http://***:***@proxy:3128');
  const refused = (text: string, message: RegExp) =>
    assert.throws(
      () => parseProxyUrl(text),
      (err: unknown) => {
        assert.ok(err instanceof ProxyConfigError);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      },
    );
  refused(
    'socks5://bob:hunter2@proxy:1080',
    /^proxy "socks5:\/\/\*\*\*@proxy:1080": only HTTP proxies \(http:\/\/ or https:\/\/\) can reach the endpoint, not socks5:\/\/$/,
  );
  refused('http://bob:hunter2@proxy:3128/path', /scheme, host and port only/);
  refused('http://bob:hunter2@', /is not a URL|has no host/);
  refused('http://proxy:99999', /is not a URL/);
  assert.throws(
    () => resolveProxy(wss, undefined, { ALL_PROXY: 'socks5://proxy:1080' }),
    /^ProxyConfigError: ALL_PROXY "socks5:\/\/proxy:1080": only HTTP proxies/,
  );
});

// ---- Dials through a CONNECT proxy on a real socket -------------------------------------

/** A stand-in WSSH server: echoes. */
async function startServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer();
  const wssServer = new WebSocketServer({ server });
  wssServer.on('headers', (headers) => headers.push(`${SERVER_MARK_HEADER}: ${SERVER_MARK_VALUE}`));
  wssServer.on('connection', (socket) => socket.on('message', (d, isBinary) => socket.send(d, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const c of wssServer.clients) c.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface StubProxy {
  port: number;
  /** Request heads received. */
  heads: string[];
  /** Connections currently open at the proxy. */
  open(): number;
  close(): Promise<void>;
}

/** A CONNECT proxy that answers as `behaviour` says: tunnel, a status, or nothing at all. */
async function startStubProxy(behaviour: (head: string) => 'tunnel' | 'silent' | string): Promise<StubProxy> {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let data = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = data.subarray(0, end).toString('latin1');
      heads.push(head);
      const action = behaviour(head);
      if (action === 'silent') return socket.resume();
      if (action !== 'tunnel') return void socket.end(`HTTP/1.1 ${action}\r\nContent-Length: 0\r\n\r\n`);
      const [host, port] = /^CONNECT (\S+):(\d+) /.exec(head)!.slice(1);
      const upstream = net.connect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        const rest = data.subarray(end + 4);
        if (rest.length) upstream.write(rest);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on('error', () => socket.destroy());
      socket.once('close', () => upstream.destroy());
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    heads,
    open: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let server: Awaited<ReturnType<typeof startServer>>;
before(async () => {
  server = await startServer();
});
after(() => server.close());

const target = { host: 'db1.lan', port: 22 };

const failure = (promise: Promise<unknown>) => rejectionOf(promise, TunnelError, 'the dial');

test('ws:// through a proxy: CONNECT (not a forwarded GET), with Proxy-Authorization; the tunnel carries bytes', async () => {
  const proxy = await startStubProxy(() => 'tunnel');
  try {
    const socket = await dial(parseEndpoint(`ws://localhost:${server.port}/ssh`), target, { proxy: `http://bob:hunter%232@127.0.0.1:${proxy.port}` });
    const echoed = new Promise<Buffer>((resolve) => socket.once('message', (d) => resolve(d as Buffer)));
    socket.resume();
    socket.send(Buffer.from('through the proxy'));
    assert.equal((await echoed).toString(), 'through the proxy');
    socket.terminate();
    const head = proxy.heads[0];
    assert.match(head, new RegExp(`^CONNECT localhost:${server.port} HTTP/1\\.1\\r\\n`));
    assert.match(head, new RegExp(`\\r\\nProxy-Authorization: Basic ${Buffer.from('bob:hunter#2').toString('base64')}(\\r\\n|$)`));
    assert.match(head, new RegExp(`\\r\\nHost: localhost:${server.port}(\\r\\n|$)`));
  } finally {
    await proxy.close();
  }
});

test('refusals by the proxy say it was the proxy: 407 (and 401), 403, 502, 504', async () => {
  const cases: Array<[string, string | undefined, number, RegExp]> = [
    [
      '407 Proxy Authentication Required',
      undefined,
      502,
      /^the HTTP proxy at http:\/\/127\.0\.0\.1:\d+ requires authentication \(407 Proxy Authentication Required\): give it as http:\/\/USER:PASSWORD@host:port$/,
    ],
    [
      '407 Proxy Authentication Required',
      'bob:hunter2',
      502,
      /^the HTTP proxy at http:\/\/bob:\*\*\*@127\.0\.0\.1:\d+ refused the credentials of "bob" \(407 Proxy Authentication Required\): check the user and password$/,
    ],
    [
      '401 Unauthorized',
      'bob:hunter2',
      502,
      /^the HTTP proxy at http:\/\/bob:\*\*\*@127\.0\.0\.1:\d+ refused the credentials of "bob" \(401 Unauthorized\): check the user and password$/,
    ],
    [
      '403 Forbidden',
      undefined,
      502,
      /^the HTTP proxy at http:\/\/127\.0\.0\.1:\d+ refused to connect to localhost:\d+ \(403 Forbidden\): it may not allow CONNECT to that host or port$/,
    ],
    ['502 Bad Gateway', undefined, 502, /^the HTTP proxy at http:\/\/127\.0\.0\.1:\d+ could not reach localhost:\d+ \(502 Bad Gateway\)$/],
    ['504 Gateway Timeout', undefined, 504, /^the HTTP proxy at http:\/\/127\.0\.0\.1:\d+ timed out reaching localhost:\d+ \(504 Gateway Timeout\)$/],
  ];
  for (const [answer, auth, status, message] of cases) {
    const proxy = await startStubProxy(() => answer);
    try {
      const err = await failure(
        dial(parseEndpoint(`wss://localhost:${server.port}/ssh`), target, { proxy: `http://${auth ? auth + '@' : ''}127.0.0.1:${proxy.port}` }),
      );
      assert.equal(err.status, status, answer);
      assert.equal(err.code, `PROXY_${answer.slice(0, 3)}`);
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /hunter2/);
    } finally {
      await proxy.close();
    }
  }
});

test("a proxy that does not answer CONNECT: 504 at the handshake timeout, named as the proxy's, and its connection is closed", async () => {
  const proxy = await startStubProxy(() => 'silent');
  try {
    const started = Date.now();
    const err = await failure(
      dial(parseEndpoint(`wss://localhost:${server.port}/ssh`), target, { proxy: `http://127.0.0.1:${proxy.port}`, handshakeTimeoutMs: 400 }),
    );
    assert.equal(err.status, 504);
    assert.equal(err.code, 'PROXY_TIMEOUT');
    assert.match(err.message, /^the HTTP proxy at http:\/\/127\.0\.0\.1:\d+ did not open the tunnel within 0\.4 s$/);
    // The deadline given, not the default one (how soon after it the dial gave up is the machine's business).
    assert.ok(Date.now() - started < DEFAULT_HANDSHAKE_TIMEOUT_MS, `gave up after ${Date.now() - started} ms`);
    const deadline = Date.now() + 10_000;
    while (proxy.open() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(proxy.open(), 0, 'the dial closed its half-made connection to the proxy');
  } finally {
    await proxy.close();
  }
});

test('a proxy that is not there: the error names the proxy, not the endpoint', async () => {
  const err = await failure(dial(parseEndpoint(`wss://localhost:${server.port}/ssh`), target, { proxy: 'http://127.0.0.1:1' }));
  assert.equal(err.status, 502);
  assert.equal(err.code, 'PROXY_UNREACHABLE');
  assert.equal(err.message, 'connection refused by the HTTP proxy at http://127.0.0.1:1: is it running, and is the port right?');
});

test('an unusable proxy setting fails the dial with the reason', async () => {
  const err = await failure(dial(parseEndpoint(`wss://localhost:${server.port}/ssh`), target, { proxy: 'socks5://127.0.0.1:1080' }));
  assert.equal(err.code, 'PROXY_CONFIG');
  assert.match(err.message, /only HTTP proxies/);
});

test('ConnectProxy.resolveProxy: asked per tunnel with the endpoint (as the tray app asks the system), its answer used', async () => {
  const stub = await startStubProxy(() => 'tunnel');
  const asked: string[] = [];
  let answer: string | false = `http://127.0.0.1:${stub.port}`;
  const local = new ConnectProxy({
    endpoint: parseEndpoint(`ws://localhost:${server.port}/ssh`),
    keepaliveMs: 0,
    resolveProxy: async (endpoint) => {
      asked.push(endpoint.url);
      return answer;
    },
  });
  const port = (await local.listen(0)).port;
  const connect = () =>
    new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('CONNECT db1.lan:22 HTTP/1.1\r\n\r\n'));
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().split('\r\n', 1)[0]);
      });
    });
  try {
    assert.equal(await connect(), 'HTTP/1.1 200 Connection established');
    assert.equal(stub.heads.length, 1, 'through the proxy');
    answer = false;
    assert.equal(await connect(), 'HTTP/1.1 200 Connection established');
    assert.equal(stub.heads.length, 1, 'directly this time');
    assert.deepEqual(asked, [`ws://localhost:${server.port}/ssh`, `ws://localhost:${server.port}/ssh`]);
  } finally {
    await local.close();
    await stub.close();
  }
});
