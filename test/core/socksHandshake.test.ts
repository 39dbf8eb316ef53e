// SOCKS5 and SOCKS4/4a on the local proxy's port, beside HTTP CONNECT: the
// parsers on their own, then raw sockets against a real ConnectProxy and a
// stand-in WSSH server, good requests and malformed ones, and that the proxy
// goes on serving both protocols after each bad one.

import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ConnectProxy } from '../../src/core/localProxy/connectProxy';
import { parseEndpoint } from '../../src/shared/endpoint';
import { SocksError, parseSocks4Request, parseSocks5Greeting, parseSocks5Request, socksFailure } from '../../src/core/localProxy/socksHandshake';
import { REFUSALS, type RefusalCode, type RefusalKind } from '../../src/core/tunnel/refusals';
import { startStandInServer, type StandInServer } from '../fixtures/standInServer';
import { fdsSettle, openFds } from '../../scripts/harness/processes';

// ---- Requests as clients send them -------------------------------------------------

const GREETING = Buffer.from([0x05, 0x01, 0x00]);

function port16(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(port);
  return b;
}

function socks5Domain(host: string, port: number, command = 0x01): Buffer {
  return Buffer.concat([Buffer.from([0x05, command, 0x00, 0x03, host.length]), Buffer.from(host, 'latin1'), port16(port)]);
}

function socks5IPv4(ip: string, port: number): Buffer {
  return Buffer.concat([Buffer.from([0x05, 0x01, 0x00, 0x01, ...ip.split('.').map(Number)]), port16(port)]);
}

function socks5IPv6(bytes: number[], port: number): Buffer {
  return Buffer.concat([Buffer.from([0x05, 0x01, 0x00, 0x04, ...bytes]), port16(port)]);
}

function socks4(ip: string, port: number, userId = '', command = 0x01): Buffer {
  return Buffer.concat([Buffer.from([0x04, command]), port16(port), Buffer.from(ip.split('.').map(Number)), Buffer.from(userId + '\0', 'latin1')]);
}

function socks4a(host: string, port: number, userId = ''): Buffer {
  return Buffer.concat([socks4('0.0.0.1', port, userId), Buffer.from(host + '\0', 'latin1')]);
}

const SOCKS5_OK = Buffer.from([0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
const SOCKS4_OK = Buffer.from([0x00, 0x5a, 0, 0, 0, 0, 0, 0]);
const SOCKS4_REJECTED = Buffer.from([0x00, 0x5b, 0, 0, 0, 0, 0, 0]);
const socks5Refusal = (code: number) => Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);

// ---- The parsers alone --------------------------------------------------------------

test('parsers: every prefix of a valid request asks for more bytes, the whole one parses', () => {
  const cases: Array<[Buffer, (b: Buffer) => unknown, unknown]> = [
    [GREETING, parseSocks5Greeting, { methods: [0], length: 3 }],
    [socks5Domain('db1.lan', 22), parseSocks5Request, { target: { host: 'db1.lan', port: 22 }, length: 14 }],
    [socks5IPv4('10.1.2.3', 2222), parseSocks5Request, { target: { host: '10.1.2.3', port: 2222 }, length: 10 }],
    [socks5IPv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 22), parseSocks5Request, { target: { host: '::1', port: 22 }, length: 22 }],
    [socks4('10.1.2.3', 22, 'me'), parseSocks4Request, { target: { host: '10.1.2.3', port: 22 }, userId: 'me', length: 11 }],
    [socks4a('db1.lan', 2222), parseSocks4Request, { target: { host: 'db1.lan', port: 2222 }, userId: '', length: 17 }],
  ];
  for (const [whole, parse, expected] of cases) {
    for (let n = 0; n < whole.length; n++) assert.equal(parse(whole.subarray(0, n)), undefined, `${whole.toString('hex')} cut at ${n}`);
    assert.deepEqual(parse(whole), expected);
  }
});

test('parsers: IPv6 addresses come out canonical, names as sent', () => {
  const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];
  assert.deepEqual(parseSocks5Request(socks5IPv6(v6, 443))?.target, { host: '2001:db8::1', port: 443 });
  assert.deepEqual(parseSocks5Request(socks5Domain('[::1]', 22))?.target, { host: '::1', port: 22 });
  assert.deepEqual(parseSocks5Request(socks5Domain('DB1.Lan', 22))?.target, { host: 'DB1.Lan', port: 22 });
});

test('parsers: what is refused, with which reply', () => {
  const refusal = (fn: () => unknown, reply: Buffer | undefined, message: RegExp) =>
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof SocksError);
      assert.deepEqual(err.reply, reply);
      assert.match(err.message, message);
      return true;
    });
  refusal(() => parseSocks5Greeting(Buffer.from([0x05, 0x00])), Buffer.from([0x05, 0xff]), /no authentication method/);
  refusal(() => parseSocks5Request(socks5Domain('db1.lan', 22, 0x02)), socks5Refusal(0x07), /BIND is not supported/);
  refusal(() => parseSocks5Request(socks5Domain('db1.lan', 22, 0x03)), socks5Refusal(0x07), /UDP ASSOCIATE is not supported/);
  refusal(() => parseSocks5Request(Buffer.from([0x05, 0x01, 0x00, 0x05, 1, 2])), socks5Refusal(0x08), /address type 5/);
  refusal(() => parseSocks5Request(Buffer.from([0x04, 0x01, 0x00, 0x01, 1, 2])), socks5Refusal(0x01), /malformed/);
  refusal(() => parseSocks5Request(Buffer.from([0x05, 0x01, 0x00, 0x03, 0, 0, 22])), socks5Refusal(0x01), /empty host/);
  refusal(() => parseSocks5Request(socks5Domain('bad host', 22)), socks5Refusal(0x01), /invalid host name/);
  refusal(() => parseSocks5Request(socks5Domain('db1.lan:22', 22)), socks5Refusal(0x01), /bad SOCKS5 target/);
  refusal(() => parseSocks5Request(socks5Domain('db1.lan', 0)), socks5Refusal(0x01), /port 0/);
  refusal(() => parseSocks4Request(socks4('10.0.0.1', 22, '', 0x02)), SOCKS4_REJECTED, /SOCKS4 BIND is not supported/);
  refusal(
    () => parseSocks4Request(Buffer.concat([socks4('10.0.0.1', 22).subarray(0, 8), Buffer.alloc(300, 0x41)])),
    SOCKS4_REJECTED,
    /user id longer than 255/,
  );
  refusal(() => parseSocks4Request(Buffer.concat([socks4('0.0.0.1', 22), Buffer.alloc(300, 0x41)])), SOCKS4_REJECTED, /host name longer than 255/);
  refusal(() => parseSocks4Request(socks4a('', 22)), SOCKS4_REJECTED, /empty host/);
});

test('refusal codes: 403 not allowed by ruleset, 502 host unreachable, 504 TTL expired, others general failure; SOCKS4 rejected', () => {
  assert.deepEqual(socksFailure(5, 'denied'), socks5Refusal(0x02));
  assert.deepEqual(socksFailure(5, 'unreachable'), socks5Refusal(0x04));
  assert.deepEqual(socksFailure(5, 'timeout'), socks5Refusal(0x06));
  assert.deepEqual(socksFailure(5, 'malformed'), socks5Refusal(0x01));
  // Every refusal a tunnel can meet after the handshake, by its status in the table.
  const byStatus: Record<number, number> = { 403: 0x02, 502: 0x04, 504: 0x06 };
  for (const [code, kind] of Object.entries(REFUSALS) as Array<[RefusalCode, RefusalKind]>) {
    if (byStatus[kind.status] !== undefined) assert.deepEqual(socksFailure(5, code), socks5Refusal(byStatus[kind.status]), code);
    assert.deepEqual(socksFailure(4, code), SOCKS4_REJECTED, code);
  }
});

// ---- On real sockets ----------------------------------------------------------------

interface Exchange {
  /** Everything the proxy sent until `bytes` had come or it closed. */
  data: Buffer;
  /** Whether the proxy closed the connection. */
  closed: boolean;
  socket: net.Socket;
}

/**
 * Sends `chunks` (each after the previous reply bytes, if `replyBytes` says how
 * many to wait for), and reads until `total` bytes came or the proxy closed.
 */
function exchange(port: number, chunks: Buffer[], total: number, timeoutMs = 15_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`got ${data.toString('hex')} and no more within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ data, closed, socket });
    };
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= total) {
        socket.pause();
        done();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => {});
    socket.once('close', () => {
      closed = true;
      done();
    });
    socket.once('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

/** Reads until `socket` closes; resolves with whether it did within `ms`. */
function closesWithin(socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

async function echoes(socket: net.Socket, size = 100_000): Promise<void> {
  const payload = crypto.randomBytes(size);
  const back: Buffer[] = [];
  let got = 0;
  const all = new Promise<void>((resolve) =>
    socket.on('data', (chunk: Buffer) => {
      back.push(chunk);
      got += chunk.length;
      if (got >= size) resolve();
    }),
  );
  socket.resume();
  socket.write(payload);
  await all;
  assert.ok(Buffer.concat(back).equals(payload), 'the bytes came back unchanged');
}

type Refusal = { status: number; reason: string; target: string };

let server: StandInServer;
let proxy: ConnectProxy;
let port: number;
const refusals: Refusal[] = [];
before(async () => {
  server = await startStandInServer();
  // The default timeouts: a busy machine must not cut a request that is on
  // its way. The timeouts themselves are tested on proxies of their own.
  proxy = new ConnectProxy({
    endpoint: parseEndpoint(`ws://127.0.0.1:${server.port}/ssh`),
    keepaliveMs: 0,
    proxy: false,
  });
  proxy.tracker.on('refused', (r) => refusals.push(r));
  port = (await proxy.listen(0)).port;
});
after(async () => {
  await proxy.close();
  await server.close();
});

/** A proxy in front of the same stand-in server, with short timeouts for a test of them. */
async function proxyWith(t: TestContext, timeouts: { headersTimeoutMs?: number; handshakeTimeoutMs?: number }): Promise<{ port: number; refusals: Refusal[] }> {
  const p = new ConnectProxy({ endpoint: parseEndpoint(`ws://127.0.0.1:${server.port}/ssh`), keepaliveMs: 0, proxy: false, ...timeouts });
  const seen: Refusal[] = [];
  p.tracker.on('refused', (r) => seen.push(r));
  const listening = await p.listen(0);
  t.after(() => p.close());
  return { port: listening.port, refusals: seen };
}

/** Both protocols still open tunnels on the port. */
async function assertStillServes(on = port): Promise<void> {
  const s5 = await exchange(on, [GREETING, socks5Domain('still.alive', 22)], 12);
  assert.deepEqual(s5.data, Buffer.concat([Buffer.from([0x05, 0x00]), SOCKS5_OK]));
  s5.socket.destroy();
  const h = await exchange(on, [Buffer.from('CONNECT still.alive:22 HTTP/1.1\r\n\r\n')], 39);
  assert.equal(h.data.toString(), 'HTTP/1.1 200 Connection established\r\n\r\n');
  h.socket.destroy();
}

test('SOCKS5 with a host name: no-auth chosen, success reply, bytes echo through the tunnel', async () => {
  const { data, socket, closed } = await exchange(port, [GREETING, socks5Domain('db1.lan', 22)], 12);
  assert.equal(closed, false);
  assert.deepEqual(data, Buffer.concat([Buffer.from([0x05, 0x00]), SOCKS5_OK]));
  assert.equal(server.paths.at(-1), '/ssh/db1.lan');
  await echoes(socket);
  socket.destroy();
});

test('SOCKS5 with an IPv4 and an IPv6 address, other ports: the same targets as CONNECT would ask for', async () => {
  const v4 = await exchange(port, [GREETING, socks5IPv4('10.0.0.7', 2222)], 12);
  assert.deepEqual(v4.data.subarray(2), SOCKS5_OK);
  assert.equal(server.paths.at(-1), '/ssh/10.0.0.7%3A2222');
  v4.socket.destroy();
  const v6 = await exchange(port, [GREETING, socks5IPv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 2222)], 12);
  assert.deepEqual(v6.data.subarray(2), SOCKS5_OK);
  assert.equal(server.paths.at(-1), '/ssh/%5B%3A%3A1%5D%3A2222');
  v6.socket.destroy();
});

test('SOCKS5 sent in one packet with early data, and byte by byte: both work; early bytes go first', async () => {
  const early = Buffer.from('SSH-2.0-eager\r\n');
  const one = await exchange(port, [Buffer.concat([GREETING, socks5Domain('db1.lan', 22), early])], 12 + early.length);
  assert.deepEqual(one.data, Buffer.concat([Buffer.from([0x05, 0x00]), SOCKS5_OK, early]));
  one.socket.destroy();

  const whole = Buffer.concat([GREETING, socks5Domain('slow.lan', 22)]);
  const dribble = await new Promise<Exchange>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      data = Buffer.concat([data, c]);
      if (data.length >= 12) resolve({ data, closed: false, socket });
    });
    let i = 0;
    const timer = setInterval(() => {
      socket.write(whole.subarray(i, i + 1));
      if (++i >= whole.length) clearInterval(timer);
    }, 10);
  });
  assert.deepEqual(dribble.data, Buffer.concat([Buffer.from([0x05, 0x00]), SOCKS5_OK]));
  assert.equal(server.paths.at(-1), '/ssh/slow.lan');
  dribble.socket.destroy();
});

test('SOCKS4 with an address and SOCKS4a with a host name', async () => {
  const s4 = await exchange(port, [socks4('10.0.0.8', 22, 'putty')], 8);
  assert.deepEqual(s4.data, SOCKS4_OK);
  assert.equal(server.paths.at(-1), '/ssh/10.0.0.8');
  await echoes(s4.socket);
  s4.socket.destroy();
  const s4a = await exchange(port, [socks4a('db2.lan', 2200)], 8);
  assert.deepEqual(s4a.data, SOCKS4_OK);
  assert.equal(server.paths.at(-1), '/ssh/db2.lan%3A2200');
  s4a.socket.destroy();
});

test('refusals: the server\'s 403 is "not allowed by ruleset" (SOCKS4: rejected), logged with the reason', async () => {
  const s5 = await exchange(port, [GREETING, socks5Domain('denied.example', 22)], 12);
  assert.deepEqual(s5.data, Buffer.concat([Buffer.from([0x05, 0x00]), socks5Refusal(0x02)]));
  assert.ok(await closesWithin(s5.socket, 10_000), 'closed after the refusal');
  assert.equal(refusals.at(-1)?.status, 403);
  assert.match(refusals.at(-1)?.reason ?? '', /no rule allows denied\.example/);
  const s4 = await exchange(port, [socks4a('denied.example', 22)], 8);
  assert.deepEqual(s4.data, SOCKS4_REJECTED);
  assert.ok(await closesWithin(s4.socket, 10_000));
});

test('refusals: an unreachable endpoint is "host unreachable", a handshake timeout "TTL expired"', async (t) => {
  const dead = new ConnectProxy({ endpoint: parseEndpoint('ws://127.0.0.1:1/ssh'), proxy: false });
  const deadPort = (await dead.listen(0)).port;
  const unreachable = await exchange(deadPort, [GREETING, socks5Domain('db1.lan', 22)], 12);
  assert.deepEqual(unreachable.data.subarray(2), socks5Refusal(0x04));
  await dead.close();

  // hang.lan: the stand-in server never answers the upgrade.
  const short = await proxyWith(t, { handshakeTimeoutMs: 1000 });
  const slow = await exchange(short.port, [GREETING, socks5Domain('hang.lan', 22)], 12);
  assert.deepEqual(slow.data.subarray(2), socks5Refusal(0x06));
  assert.equal(short.refusals.at(-1)?.status, 504);
});

test('malformed and unsupported requests get their reply and a closed connection; the proxy goes on', async () => {
  const cases: Array<[string, Buffer[], Buffer]> = [
    ['a greeting with no methods', [Buffer.from([0x05, 0x00])], Buffer.from([0x05, 0xff])],
    ['a greeting offering only user/password', [Buffer.from([0x05, 0x01, 0x02])], Buffer.from([0x05, 0xff])],
    ['BIND', [GREETING, socks5Domain('db1.lan', 22, 0x02)], Buffer.concat([Buffer.from([0x05, 0x00]), socks5Refusal(0x07)])],
    ['UDP ASSOCIATE', [GREETING, socks5IPv4('10.0.0.1', 53).fill(0x03, 1, 2)], Buffer.concat([Buffer.from([0x05, 0x00]), socks5Refusal(0x07)])],
    ['an unknown address type', [GREETING, Buffer.from([0x05, 0x01, 0x00, 0x09, 1, 2, 3])], Buffer.concat([Buffer.from([0x05, 0x00]), socks5Refusal(0x08)])],
    ['a request with the wrong version', [GREETING, socks4('10.0.0.1', 22)], Buffer.concat([Buffer.from([0x05, 0x00]), socks5Refusal(0x01)])],
    ['a bad host name', [GREETING, socks5Domain('-rf', 22)], Buffer.concat([Buffer.from([0x05, 0x00]), socks5Refusal(0x01)])],
    ['SOCKS4 BIND', [socks4('10.0.0.1', 22, '', 0x02)], SOCKS4_REJECTED],
    ['a SOCKS4 user id without an end', [Buffer.concat([socks4('10.0.0.1', 22).subarray(0, 8), Buffer.alloc(4096, 0x41)])], SOCKS4_REJECTED],
    ['a SOCKS4a host name without an end', [Buffer.concat([socks4('0.0.0.1', 22), Buffer.alloc(4096, 0x41)])], SOCKS4_REJECTED],
  ];
  for (const [what, chunks, reply] of cases) {
    const r = await exchange(port, chunks, reply.length + 1);
    assert.deepEqual(r.data, reply, what);
    assert.ok(r.closed || (await closesWithin(r.socket, 10_000)), `${what}: closed`);
  }
  await assertStillServes();
});

test('a SOCKS client that stops halfway is cut at the header timeout and does not block others', async (t) => {
  const HEADERS_MS = 1000;
  const strict = await proxyWith(t, { headersTimeoutMs: HEADERS_MS });
  const started = Date.now();
  const stalled = [
    exchange(strict.port, [Buffer.from([0x05])], 100),
    exchange(strict.port, [GREETING, Buffer.from([0x05, 0x01, 0x00, 0x03, 20, 0x61])], 100),
    exchange(strict.port, [Buffer.from([0x04, 0x01, 0x00, 0x16])], 100),
  ].map((p) => p.then((r) => ({ ...r, after: Date.now() - started })));
  await assertStillServes(strict.port);
  const [greetingOnly, halfRequest, halfSocks4] = await Promise.all(stalled);
  for (const r of [greetingOnly, halfRequest, halfSocks4]) {
    assert.equal(r.closed, true);
    // Not before the timeout: its clock starts once the proxy has the connection.
    assert.ok(r.after >= HEADERS_MS - 50, `cut after ${r.after} ms, before the ${HEADERS_MS} ms header timeout`);
  }
  assert.deepEqual(greetingOnly.data, Buffer.alloc(0));
  // After the greeting, the client understands a reply: TTL expired (the SOCKS word for a timeout).
  assert.deepEqual(halfRequest.data, Buffer.concat([Buffer.from([0x05, 0x00]), socks5Refusal(0x06)]));
  assert.deepEqual(halfSocks4.data, SOCKS4_REJECTED);
});

test('HTTP on the same port: a first byte alone, then the rest, still parses; a silent client gets 408', async (t) => {
  const split = await new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (c) => {
      text += c.toString();
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.write('C');
    setTimeout(() => socket.write('ONNECT split.lan:22 HTTP/1.1\r\n\r\n'), 100);
  });
  assert.equal(split, 'HTTP/1.1 200 Connection established\r\n\r\n');
  assert.equal(server.paths.at(-1), '/ssh/split.lan');

  const strict = await proxyWith(t, { headersTimeoutMs: 1000 });
  const silent = await exchange(strict.port, [], 1000);
  assert.equal(silent.closed, true);
  assert.match(silent.data.toString(), /^HTTP\/1\.1 408 /);
});

test('fuzz: 300 mutated SOCKS handshakes, no crash, every connection closed or answered, the proxy goes on, descriptors back at baseline', async (t) => {
  // A short header timeout, so that a cut request does not hold its batch long.
  const strict = await proxyWith(t, { headersTimeoutMs: 500 });
  // Linux's /proc tells the descriptors; elsewhere that check is left out.
  const baseline = fs.existsSync('/proc/self/fd') ? openFds('self') : undefined;
  // A fixed seed: the same run every time, reproducible when it fails.
  let seed = 0x5eed;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const valid = [
    Buffer.concat([GREETING, socks5Domain('db1.lan', 22)]),
    Buffer.concat([GREETING, socks5IPv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 22)]),
    socks4('10.0.0.1', 22, 'user'),
    socks4a('db1.lan', 22, 'user'),
  ];
  const one = (i: number): Promise<void> => {
    const input = Buffer.from(valid[random(valid.length)]);
    const mutations = 1 + random(4);
    for (let m = 0; m < mutations; m++) input[1 + random(input.length - 1)] = random(256);
    const cut = input.subarray(0, 1 + random(input.length));
    return new Promise((resolve, reject) => {
      const socket = net.connect(strict.port, '127.0.0.1');
      let data = Buffer.alloc(0);
      // A deadline for the test: the header timeout ends every case long before.
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`case ${i} (${cut.toString('hex')}): neither answered nor closed within 30 s, got ${data.toString('hex')}`));
      }, 30_000);
      const finish = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      };
      socket.on('error', () => {});
      socket.on('data', (c: Buffer) => {
        data = Buffer.concat([data, c]);
        // A mutation that is still a valid request opens a tunnel: fine too.
        if (data.subarray(-10).equals(SOCKS5_OK) || data.equals(SOCKS4_OK)) finish();
      });
      socket.once('close', finish);
      socket.write(cut);
    });
  };
  // In batches: a cut request waits out the header timeout.
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(Array.from({ length: 30 }, (_, k) => one(batch * 30 + k)));
  }
  if (baseline !== undefined) {
    // Tunnels that a still-valid mutation opened close once their client is gone.
    const after = await fdsSettle('self', baseline + 2, 15_000);
    assert.ok(after <= baseline + 2, `open descriptors ${after} after the fuzz, ${baseline} before`);
  }
  await assertStillServes(strict.port);
});
