/**
 * What PuTTY, plink or anything else on the machine sends to the local
 * proxy's port (src/core/localProxy/connectProxy.ts, socksHandshake.ts), over
 * a real socket: a CONNECT or absolute-form request head with its headers
 * and sizes, the bytes pipelined after it, or a SOCKS 4/4a/5 handshake,
 * mutated; sometimes cut into pieces, sometimes followed by a FIN. Behind
 * the proxy: a WSSH server in this thread whose policy allows 127.0.0.1, and
 * an echo server.
 *
 * Properties: an answer (an HTTP status line, a SOCKS reply, or a close for
 * a SOCKS handshake that has no reply) within the bound; after a 200, the
 * bytes pipelined after the head come back from the echo first and whole;
 * the proxy never reports an error of its own.
 */
import net from 'node:net';
import * as fc from 'fast-check';
import { ConnectProxy } from '../../../src/core/localProxy/connectProxy';
import { parseEndpoint } from '../../../src/shared/endpoint';
import { HostsPolicy } from '../../../server/policy/hostsPolicy';
import { WsshServer } from '../../../server/wsshServer';
import { startEcho, type Listening } from '../../harness/echoServer';
import { mutatedBytes, mutatedText } from '../mutate';
import { holds, PropertyBroken, type FuzzTarget } from '../target';
import { socks4Request, socks5Greeting, socks5Request } from './socks';

/** Stands for the echo server's `127.0.0.1:PORT` in generated requests (its port is known only at setup). */
const ECHO = '\u0001ECHO\u0001';

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constant('CONNECT') },
  { weight: 1, arbitrary: fc.constantFrom('connect', 'GET', 'POST', 'PRI', 'CONNECT ') },
);
const requestTarget = fc.oneof(
  { weight: 5, arbitrary: fc.constant(ECHO) },
  { weight: 2, arbitrary: fc.constantFrom('db1.lan:22', '[::1]:22', '127.0.0.1:0', '127.0.0.1', ':22', 'host:99999', '*', '/') },
  { weight: 1, arbitrary: fc.webUrl().map((u) => u.replace(/^https?:\/\//, 'http://')) },
);
const version = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0') },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/1.1x', '') },
);
const header = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('Host: 127.0.0.1', 'Proxy-Connection: Keep-Alive', 'User-Agent: PuTTY/0.78', 'Proxy-Authorization: Basic dXNlcjpwYXNz'),
  },
  { weight: 2, arbitrary: fc.constantFrom('Content-Length: 5', 'Transfer-Encoding: chunked', 'Expect: 100-continue', 'Connection: close', 'Host:') },
  { weight: 1, arbitrary: fc.constantFrom('X-Folded: a\r\n b', 'NoColon', ': empty name') },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 12_000 }).map((n) => `X-Big: ${'b'.repeat(n)}`) },
);
const httpHead = fc
  .record({ method, target: requestTarget, version, headers: fc.array(header, { maxLength: 5 }), end: fc.constantFrom('\r\n\r\n', '\r\n\r\n', '\n\n', '\r\n') })
  .map(({ method, target, version, headers, end }) => [`${method} ${target} ${version}`.trimEnd(), ...headers].join('\r\n') + end);

interface ProxyInput {
  /** The request: HTTP text (latin1) or SOCKS bytes. */
  head: Buffer;
  /** Bytes sent right after the head, in the same write. */
  pipelined: Buffer;
  /** Where the bytes are cut into separate writes, as fractions. */
  cuts: number[];
  /** Half-close after the last byte. */
  fin: boolean;
}

const TOKENS = ['\r\n', '\n', ' ', ':', '\u0000', 'CONNECT ', 'HTTP/1.1', '\r\n\r\n', '%', '[', ']'];

interface Context {
  proxy: ConnectProxy;
  proxyPort: number;
  echo: Listening;
  server: WsshServer;
  errors: Error[];
}

export const localProxyTarget: FuzzTarget<ProxyInput, Context> = {
  name: 'local-proxy',
  about: "the local proxy's request head (CONNECT, absolute-form, headers, sizes, pipelined bytes) and SOCKS 4/4a/5 over a socket",
  arbitrary: fc.record({
    head: fc.oneof(
      { weight: 3, arbitrary: mutatedText(httpHead, TOKENS).map((t) => Buffer.from(t, 'latin1')) },
      { weight: 1, arbitrary: mutatedBytes(fc.tuple(socks5Greeting, socks5Request).map((parts) => Buffer.concat(parts))) },
      { weight: 1, arbitrary: mutatedBytes(socks4Request) },
    ),
    pipelined: fc.oneof(
      fc.constant(Buffer.from('SSH-2.0-PuTTY_Release_0.78\r\n')),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    ),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
    fin: fc.boolean(),
  }),
  testRuns: 150,
  caseMs: 5000,
  async setup() {
    const echo = await startEcho();
    const server = new WsshServer({ policy: () => HostsPolicy.parse('/^127\\.0\\.0\\.1(:\\d+)?$/: true\n'), keepaliveMs: 0 });
    const { port } = await server.listen(0, '127.0.0.1');
    const proxy = new ConnectProxy({ endpoint: parseEndpoint(`ws://127.0.0.1:${port}/ssh`), proxy: false, keepaliveMs: 0, headersTimeoutMs: 500 });
    const errors: Error[] = [];
    proxy.on('error', (err) => errors.push(err));
    const { port: proxyPort } = await proxy.listen(0, '127.0.0.1');
    return { proxy, proxyPort, echo, server, errors };
  },
  async teardown({ proxy, echo, server }) {
    await proxy.close();
    await server.close();
    await echo.close();
  },
  async check(input, context) {
    const head = Buffer.from(input.head.toString('latin1').replaceAll(ECHO, `127.0.0.1:${context.echo.port}`), 'latin1');
    const sent = Buffer.concat([head, input.pipelined]);
    // What follows the first request's head (the pipelined bytes, and whatever a mutation put before them) is the tunnel's.
    // (Empty lines before the request line are skipped, RFC 9112 §2.2.)
    const blank = /^[\r\n]*[^]*?\r?\n\r?\n/.exec(sent.toString('latin1'));
    const after = blank ? sent.subarray(blank[0].length) : Buffer.alloc(0);
    const answer = await exchange(context.proxyPort, sent, input, after.length);
    holds(context.errors.length === 0, () => `the proxy reported an error: ${context.errors.map((e) => e.message).join('; ')}`);
    const socks = sent[0] === 0x04 || sent[0] === 0x05;
    if (socks) {
      holds(
        answer.length === 0 || answer[0] === 0x05 || answer[0] === 0x00 || answer[0] === 0x01,
        () => `a SOCKS client got ${answer.subarray(0, 16).toString('hex')}`,
      );
      return;
    }
    const text = answer.toString('latin1');
    // Empty lines before a request are skipped (RFC 9112 §2.2): a client that sent only those, then its FIN, asked nothing.
    if (text === '' && input.fin && /^[\r\n]*$/.test(sent.toString('latin1'))) return;
    holds(/^HTTP\/1\.1 [1-5]\d\d /.test(text), () => `an HTTP client got ${JSON.stringify(text.slice(0, 80))}`);
    const established = 'HTTP/1.1 200 Connection established\r\n\r\n';
    // A FIN from the client ends the whole tunnel (a WebSocket has no half-close): the echo is checked without one.
    if (text.startsWith(established) && !input.fin) {
      const echoed = answer.subarray(established.length);
      holds(echoed.equals(after), () => `after the 200, the echo sent back ${echoed.toString('hex')} for ${after.toString('hex')}`);
    }
  },
};

/**
 * Sends `bytes` in the input's pieces and reads the answer: until the proxy
 * closes, or, after a 200, until the pipelined bytes came back.
 */
function exchange(port: number, bytes: Buffer, input: ProxyInput, tunnelled: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let size = 0;
    const want = 'HTTP/1.1 200 Connection established\r\n\r\n'.length + tunnelled;
    const done = () => {
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      const got = Buffer.concat(chunks).toString('latin1');
      // A refusal's status line is the answer; after a 200, the echo of the pipelined bytes is.
      if (got.startsWith('HTTP/1.1 200 ') ? size >= want : /^HTTP\/1\.1 [^\r\n]*\r\n/.test(got)) done();
    });
    // The proxy's FIN ends the answer (this side is half-open, to send its own FIN when the case says so).
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? done() : reject(new PropertyBroken(err.message))));
    socket.on('connect', () => {
      const points = [...new Set(input.cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
      let from = 0;
      for (const at of [...points, bytes.length]) {
        if (at > from) socket.write(bytes.subarray(from, at));
        from = at;
      }
      if (input.fin) socket.end();
    });
  });
}
