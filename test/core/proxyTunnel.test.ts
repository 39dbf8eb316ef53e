// The CONNECT handshake with a proxy that wants a sign-in
// (src/core/proxyTunnel.ts), against a small proxy on a real socket that
// checks NTLMv2 for real (the NTProofStr recomputed from the password) and
// can misbehave in the ways squid does not: refuse the credentials, close
// the connection in the middle of NTLM, answer with chunked or unbounded
// bodies, offer only Digest. (Against squid itself: test/e2e/proxyAuth.test.ts.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { openProxyTunnel } from '../../src/core/proxyTunnel';
import { ProxyRefusal, parseProxyUrl, proxyRefusalMessage } from '../../src/core/upstreamProxy';
import { ntowfv2 } from '../../src/core/proxyAuth/ntlm';
import { readExactly } from '../fixtures/tunnel';
import { runProgram } from '../../scripts/harness/processes';
import { makeCertificates } from '../../scripts/harness/tls';
import { tempDir } from '../fixtures/tmp';

interface Seen {
  /** Which connection (1, 2, …) carried it. */
  connection: number;
  authorization?: string;
}

interface StubOptions {
  /** The 407's Proxy-Authenticate headers. */
  offer: string[];
  password: string;
  /** How the first 407's body is framed. */
  firstBody?: 'length' | 'chunked' | 'to-close';
  /** Close the connection after sending the NTLM challenge. */
  closeAfterChallenge?: boolean;
  /** On the first connection, drop the request after the first 407 unanswered (a 407 not followed by `Connection: close`, then a close). */
  staleAfterFirst407?: boolean;
  /** Drop the NTLM AUTHENTICATE_MESSAGE unanswered, on a connection that said nothing of closing. */
  dropAuthenticate?: boolean;
  /** Answer the NEGOTIATE_MESSAGE with a bare 407 (no challenge). */
  noChallenge?: boolean;
  /** Speak TLS (an https:// proxy) with this certificate. */
  tls?: { cert: Buffer; key: Buffer };
}

/** A proxy that wants NTLM (with Negotiate and others offered as told) and tunnels to nothing: it says hello after its 200. */
async function startNtlmProxy(options: StubOptions) {
  const seen: Seen[] = [];
  const serverChallenge = crypto.randomBytes(8);
  let connections = 0;
  const onConnection = (socket: net.Socket) => {
    const connection = ++connections;
    socket.on('error', () => {});
    let data = Buffer.alloc(0);
    let first = true;
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      for (let end = data.indexOf('\r\n\r\n'); end >= 0; end = data.indexOf('\r\n\r\n')) {
        const head = data.subarray(0, end).toString('latin1');
        data = data.subarray(end + 4);
        const authorization = /\r\nProxy-Authorization: (.*)/i.exec(head)?.[1];
        seen.push({ connection, authorization });
        if (options.staleAfterFirst407 && connection === 1 && !first) {
          socket.destroy();
          return;
        }
        const body = 'sign in, please\n';
        const refuse = (headers: string[], framing: StubOptions['firstBody'] = 'length') => {
          const lines = ['HTTP/1.1 407 Proxy Authentication Required', ...headers.map((h) => `Proxy-Authenticate: ${h}`)];
          if (framing === 'chunked') socket.write([...lines, 'Transfer-Encoding: chunked', '', `5\r\nsign \r\n${(body.length - 5).toString(16)}\r\n${body.slice(5)}\r\n0\r\n\r\n`].join('\r\n'));
          else if (framing === 'to-close') socket.end([...lines, 'Connection: close', '', body].join('\r\n'));
          else socket.write([...lines, `Content-Length: ${body.length}`, '', body].join('\r\n'));
        };
        if (!authorization?.startsWith('NTLM ')) {
          refuse(options.offer, first ? options.firstBody : 'length');
        } else {
          const message = Buffer.from(authorization.slice(5), 'base64');
          const type = message.readUInt32LE(8);
          if (type === 1 && options.noChallenge) {
            refuse(options.offer);
          } else if (type === 1) {
            const challenge = challengeMessage(serverChallenge);
            const lines = ['HTTP/1.1 407 Proxy Authentication Required', `Proxy-Authenticate: NTLM ${challenge.toString('base64')}`, `Content-Length: ${body.length}`];
            if (options.closeAfterChallenge) lines.push('Connection: close');
            socket.write([...lines, '', body].join('\r\n'));
            if (options.closeAfterChallenge) socket.end();
          } else if (type === 3 && options.dropAuthenticate) {
            socket.destroy();
            return;
          } else if (type === 3 && ntlmv2Valid(message, serverChallenge, options.password)) {
            socket.write('HTTP/1.1 200 Connection established\r\n\r\nhello from the far side');
          } else {
            refuse(options.offer);
          }
        }
        first = false;
      }
    });
  };
  const server = options.tls ? tls.createServer(options.tls, onConnection) : net.createServer(onConnection);
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A CHALLENGE_MESSAGE with Unicode, NTLM, extended session security and target info (no timestamp). */
function challengeMessage(serverChallenge: Buffer): Buffer {
  const targetInfo = Buffer.from('02000800' + '43004f0052005000' + '00000000', 'hex'); // MsvAvNbDomainName "CORP", EOL
  const head = Buffer.alloc(48);
  Buffer.from('NTLMSSP\0', 'latin1').copy(head);
  head.writeUInt32LE(2, 8);
  head.writeUInt32LE(0x00000001 | 0x00000200 | 0x00080000 | 0x00800000, 20);
  serverChallenge.copy(head, 24);
  head.writeUInt16LE(targetInfo.length, 40);
  head.writeUInt16LE(targetInfo.length, 42);
  head.writeUInt32LE(48, 44);
  return Buffer.concat([head, targetInfo]);
}

/** What a server does with an AUTHENTICATE_MESSAGE: recompute NTProofStr from the password it knows. */
function ntlmv2Valid(message: Buffer, serverChallenge: Buffer, password: string): boolean {
  const field = (i: number) => message.subarray(message.readUInt32LE(16 + i * 8), message.readUInt32LE(16 + i * 8) + message.readUInt16LE(12 + i * 8));
  const [nt, domain, user] = [field(1), field(2), field(3)].map((b, i) => (i === 0 ? b : b.toString('utf16le')));
  const key = ntowfv2(password, user as string, domain as string);
  const proof = crypto.createHmac('md5', key).update(serverChallenge).update((nt as Buffer).subarray(16)).digest();
  return proof.equals((nt as Buffer).subarray(0, 16));
}

// Negotiate is offered too: with no credentials cache here it is skipped (no ticket).
let savedCache: string | undefined;
before(() => {
  savedCache = process.env.KRB5CCNAME;
  process.env.KRB5CCNAME = 'FILE:/nonexistent/wssh-test-no-ticket';
});
after(() => {
  if (savedCache === undefined) delete process.env.KRB5CCNAME;
  else process.env.KRB5CCNAME = savedCache;
});

const target = { host: 'gw.example.com', port: 443 };

async function refusal(promise: Promise<unknown>): Promise<ProxyRefusal> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ProxyRefusal) return err;
    throw err;
  }
  assert.fail('the handshake should have failed');
}

/** A dial as `userinfo` through a stub started with `options`, refused: the refusal, its message, the stub's port and what it saw. */
async function refusedThrough(options: StubOptions, userinfo: string) {
  const stub = await startNtlmProxy(options);
  try {
    const proxy = parseProxyUrl(`http://${userinfo}@127.0.0.1:${stub.port}`);
    const err = await refusal(openProxyTunnel(proxy, target));
    return { err, message: proxyRefusalMessage(err, proxy, 'gw.example.com:443').message, port: stub.port, seen: stub.seen };
  } finally {
    await stub.close();
  }
}

test('NTLM: the first CONNECT, both NTLM legs and the tunnel on one connection, after a chunked 407; no Basic sent for DOMAIN\\user; bytes after the 200 kept', async () => {
  const stub = await startNtlmProxy({ offer: ['Negotiate, NTLM', 'Basic realm="corp"'], password: 'pä55 word', firstBody: 'chunked' });
  try {
    const proxy = parseProxyUrl(`http://CORP%5Calice:p%C3%A455%20word@127.0.0.1:${stub.port}`);
    const socket = await openProxyTunnel(proxy, target);
    assert.equal((await readExactly(socket, 23)).toString(), 'hello from the far side');
    socket.destroy();
    assert.deepEqual(
      stub.seen.map((s) => [s.connection, s.authorization?.split(' ')[0]]),
      [
        [1, undefined],
        [1, 'NTLM'],
        [1, 'NTLM'],
      ],
    );
  } finally {
    await stub.close();
  }
});

test('a 407 whose body runs to the close: NTLM starts again on a new connection', async () => {
  const stub = await startNtlmProxy({ offer: ['NTLM'], password: 'pw', firstBody: 'to-close' });
  try {
    const socket = await openProxyTunnel(parseProxyUrl(`http://CORP%5Calice:pw@127.0.0.1:${stub.port}`), target);
    socket.destroy();
    assert.deepEqual(
      stub.seen.map((s) => s.connection),
      [1, 2, 2],
    );
  } finally {
    await stub.close();
  }
});

test('a proxy that closes the kept-alive connection after its 407 without saying so: the sign-in goes again on a new connection, not "unreachable"', async () => {
  const stub = await startNtlmProxy({ offer: ['NTLM'], password: 'pw', staleAfterFirst407: true });
  try {
    const socket = await openProxyTunnel(parseProxyUrl(`http://CORP%5Calice:pw@127.0.0.1:${stub.port}`), target);
    assert.equal((await readExactly(socket, 5)).toString(), 'hello');
    socket.destroy();
    // The plain CONNECT and the dropped NTLM start on the first connection; NTLM again, whole, on the second.
    assert.deepEqual(
      stub.seen.map((s) => [s.connection, s.authorization?.slice(0, 4)]),
      [[1, undefined], [1, 'NTLM'], [2, 'NTLM'], [2, 'NTLM']],
    );
  } finally {
    await stub.close();
  }
});

test('a proxy that drops NTLM\'s answer unannounced: said as a failed NTLM handshake, not an unreachable proxy', async () => {
  const { message } = await refusedThrough({ offer: ['NTLM'], password: 'pw', dropAuthenticate: true }, 'CORP%5Calice:pw');
  assert.match(message, /NTLM for CORP\\alice failed: the proxy closed the connection in the middle of the NTLM handshake/);
});

test('wrong NTLM credentials: "refused CORP\\alice\'s NTLM credentials", what was offered and why Negotiate was not used; never the password', async () => {
  const { err, message, port } = await refusedThrough({ offer: ['Negotiate', 'NTLM'], password: 'the right one' }, 'CORP%5Calice:hunter2');
  assert.equal(err.status, 407);
  assert.equal(
    message,
    `the HTTP proxy at http://CORP%5Calice:***@127.0.0.1:${port} refused CORP\\alice's NTLM credentials (407 Proxy Authentication Required): check the domain, user and password (DOMAIN\\user, as http://DOMAIN%5Cuser:PASSWORD@host:port) (it offered Negotiate or NTLM; Negotiate: no Kerberos ticket (run kinit, or sign in to the domain))`,
  );
  assert.doesNotMatch(message, /hunter2/);
});

test('a proxy that closes the connection between NTLM\'s challenge and answer: said so (NTLM needs one connection)', async () => {
  const { message, port } = await refusedThrough({ offer: ['NTLM'], password: 'pw', closeAfterChallenge: true }, 'CORP%5Calice:pw');
  assert.equal(
    message,
    `the HTTP proxy at http://CORP%5Calice:***@127.0.0.1:${port}: NTLM for CORP\\alice failed: the proxy closed the connection in the middle of the NTLM handshake (NTLM needs one kept-alive connection) (it offered NTLM)`,
  );
});

test('a proxy that offers only what WSSH does not speak (Digest): said so, nothing sent', async () => {
  const { message, port, seen } = await refusedThrough({ offer: ['Digest realm="corp", nonce="n1", qop="auth"'], password: 'pw' }, 'CORP%5Calice:pw');
  assert.equal(
    message,
    `the HTTP proxy at http://CORP%5Calice:***@127.0.0.1:${port} wants Digest (407 Proxy Authentication Required), and WSSH speaks only Negotiate, NTLM and Basic: ask for one of those, or use another proxy`,
  );
  assert.deepEqual(seen.map((s) => s.authorization), [undefined]);
});

test('a plain user (no domain) is sent as Basic before any 407, as before; with NTLM offered, NTLM follows', async () => {
  const stub = await startNtlmProxy({ offer: ['NTLM', 'Basic realm="corp"'], password: 'pw' });
  try {
    const socket = await openProxyTunnel(parseProxyUrl(`http://alice:pw@127.0.0.1:${stub.port}`), target);
    socket.destroy();
    assert.deepEqual(
      stub.seen.map((s) => s.authorization?.split(' ')[0]),
      ['Basic', 'NTLM', 'NTLM'],
    );
  } finally {
    await stub.close();
  }
});

test('a 407 that names no scheme: DOMAIN\\user goes as Basic only after it, and the refusal says whose credentials were sent', async () => {
  const { message, port, seen } = await refusedThrough({ offer: [], password: 'pw' }, 'CORP%5Calice:hunter2');
  assert.deepEqual(
    seen.map((s) => s.authorization?.split(' ')[0]),
    [undefined, 'Basic'],
  );
  assert.equal(
    message,
    `the HTTP proxy at http://CORP%5Calice:***@127.0.0.1:${port} refused the credentials of "CORP\\alice" (407 Proxy Authentication Required): check the user and password`,
  );
});

test('an https:// proxy: TLS to the proxy, checked against the trusted CAs (NODE_EXTRA_CA_CERTS here), then the sign-in inside it', async (t) => {
  const dir = tempDir(t, 'wssh-proxytunnel-tls-');
  const certs = await makeCertificates(dir);
  const stub = await startNtlmProxy({ offer: ['NTLM'], password: 'pw', tls: { cert: fs.readFileSync(certs.serverCert), key: fs.readFileSync(certs.serverKey) } });
  try {
    // The trusted CAs are read at start-up: a process of its own, trusting the test CA.
    const script = `
      const { openProxyTunnel } = require(${JSON.stringify(require.resolve('../../src/core/proxyTunnel'))});
      const { parseProxyUrl } = require(${JSON.stringify(require.resolve('../../src/core/upstreamProxy'))});
      openProxyTunnel(parseProxyUrl(process.argv[1]), { host: 'gw.example.com', port: 443 }).then(
        (socket) => socket.once('data', (d) => { console.log(String(d)); socket.destroy(); }).resume(),
        (err) => { console.log(err.name + ': ' + err.message); });`;
    const run = (url: string, ca: string) =>
      runProgram(process.execPath, ['-e', script, url], { env: { ...process.env, NODE_EXTRA_CA_CERTS: ca, KRB5CCNAME: 'FILE:/nonexistent/x' } });
    const ok = await run(`https://CORP%5Calice:pw@localhost:${stub.port}`, certs.caCert);
    assert.equal(ok.stdout.toString().trim(), 'hello from the far side', ok.stderr);
    const untrusted = await run(`https://CORP%5Calice:pw@localhost:${stub.port}`, path.join(dir, 'none.pem'));
    assert.match(untrusted.stdout.toString(), /^ProxyUnreachable: (unable to verify the first certificate|self[- ]signed certificate in certificate chain|unable to get local issuer certificate)/);
  } finally {
    await stub.close();
  }
});

test('a proxy that answers NTLM\'s first message without a challenge: said so, and no "check the password" (it was never sent)', async () => {
  const { message, port } = await refusedThrough({ offer: ['NTLM'], password: 'pw', noChallenge: true }, 'CORP%5Calice:pw');
  assert.equal(message, `the HTTP proxy at http://CORP%5Calice:***@127.0.0.1:${port}: NTLM for CORP\\alice failed: the proxy answered its first message with no NTLM challenge (it offered NTLM)`);
  assert.doesNotMatch(message, /check the/);
});
