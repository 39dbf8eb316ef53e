/**
 * What an upstream HTTP proxy answers to our CONNECT
 * (src/core/upstream/proxyTunnel.ts), over a real socket: status lines,
 * `Proxy-Authenticate` challenges (NTLM challenge messages among them),
 * bodies by Content-Length, chunked or to the close, then a close, silence,
 * or an endless stream. The credentials are a Windows `DOMAIN\user`, so
 * NTLM and Basic are both tried when offered.
 *
 * Properties: openProxyTunnel resolves with the tunnel's socket or rejects
 * with ProxyRefusal or ProxyUnreachable, with a message; when the proxy has
 * said everything and closed, it settles by itself, well before the dial's
 * deadline; when it stays silent or streams for ever, the abort ends it;
 * memory stays bounded while a body streams.
 */
import net from 'node:net';
import * as fc from 'fast-check';
import { ProxyUnreachable, openProxyTunnel } from '../../../src/core/upstream/proxyTunnel';
import { ProxyRefusal, parseProxyUrl } from '../../../src/core/upstream/upstreamProxy';
import { listenTracked, type Listening } from '../../harness/echoServer';
import { mutatedText } from '../mutate';
import { PropertyBroken, holds, type FuzzTarget } from '../target';
import { challengeHeader, ntlmChallenge } from './proxyAuth';

const statusLine = fc.constantFrom(
  'HTTP/1.1 407 Proxy Authentication Required',
  'HTTP/1.1 407 Proxy Authentication Required',
  'HTTP/1.1 200 Connection established',
  'HTTP/1.0 200 OK',
  'HTTP/1.1 403 Forbidden',
  'HTTP/1.0 407',
  'HTTP/1.1 502 Bad Gateway',
  'HTTP/2 200',
  'ICY 200 OK',
  'HTTP/1.1 999 Odd',
);
const authHeader = fc.oneof(
  challengeHeader.map((c) => `Proxy-Authenticate: ${c}`),
  ntlmChallenge.map((m) => `Proxy-Authenticate: NTLM ${m.toString('base64')}`),
  fc.constantFrom('Proxy-Authenticate: NTLM', 'Proxy-Authenticate: Basic realm="corp"', 'Proxy-Authenticate: NTLM TlRMTVNTUAACAAAA'),
);
const chunked = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 20 }).map((s) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`),
      fc.constantFrom('zz\r\n', 'ffffffffffff\r\n', '5;ext=1\r\nhello\r\n', '-1\r\n'),
    ),
    { maxLength: 4 },
  )
  .map((chunks) => chunks.join('') + '0\r\n\r\n');
const response = fc
  .record({
    status: statusLine,
    headers: fc.array(fc.oneof(authHeader, fc.constantFrom('Connection: close', 'Proxy-Connection: keep-alive', 'Connection: keep-alive', 'Via: 1.1 squid')), {
      maxLength: 3,
    }),
    body: fc.oneof(
      fc.string({ maxLength: 40 }).map((s) => ({ header: `Content-Length: ${Buffer.byteLength(s)}`, text: s })),
      fc.constantFrom(
        { header: 'Content-Length: 100', text: 'short' },
        { header: 'Content-Length: -1', text: '' },
        { header: 'Content-Length: 1e3', text: '' },
      ),
      chunked.map((text) => ({ header: 'Transfer-Encoding: chunked', text })),
      fc.constant({ header: '', text: 'to the close' }),
    ),
  })
  .map(({ status, headers, body }) => [status, ...headers, ...(body.header ? [body.header] : []), '', body.text].join('\r\n'));

interface AnswerInput {
  /** One answer per request, in order, whichever connection the request came on. */
  answers: string[];
  /** After the last answer: close, stay silent, or stream bytes for ever. */
  after: 'close' | 'silent' | 'stream';
}

interface Context {
  proxy: Listening;
  /** The case being run: what the proxy answers. */
  current?: { answers: string[]; after: AnswerInput['after']; closed: boolean };
}

/** How long a case's dial may take before it is abandoned. */
const DIAL_DEADLINE_MS = 400;

export const upstreamAnswerTarget: FuzzTarget<AnswerInput, Context> = {
  name: 'upstream-answer',
  about: "the upstream proxy's answers to CONNECT: status lines, challenges, NTLM messages, chunked and endless bodies (openProxyTunnel)",
  arbitrary: fc.record({
    answers: fc.array(mutatedText(response, ['\r\n', '\n', ':', ' ', '\r\n\r\n', 'HTTP/1.1 ', '0\r\n', '\u0000'], 3), { minLength: 1, maxLength: 3 }),
    after: fc.constantFrom('close', 'close', 'close', 'silent', 'stream'),
  }),
  testRuns: 150,
  caseMs: 5000,
  async setup() {
    const context: Context = {} as Context;
    const server = net.createServer((socket) => serve(socket, context));
    context.proxy = await listenTracked(server);
    return context;
  },
  async teardown(context) {
    await context.proxy.close();
  },
  async check(input, context) {
    context.current = { answers: [...input.answers], after: input.after, closed: false };
    const proxy = parseProxyUrl(`http://CORP%5Calice:secret@127.0.0.1:${context.proxy.port}`);
    const signal = AbortSignal.timeout(DIAL_DEADLINE_MS);
    const started = Date.now();
    try {
      const socket = await openProxyTunnel(proxy, { host: 'gw.example.com', port: 443 }, { signal, log: () => {} });
      socket.destroy();
    } catch (err) {
      const e = err as Error;
      if (e.name === 'AbortError') {
        // A proxy still owing bytes (a body shorter than its length) is silent, not closed: the abort is right.
        const closed = context.current.closed;
        holds(!closed, () => `the dial needed the abort after ${Date.now() - started} ms though the proxy had answered all and closed`);
      } else if (!(e instanceof ProxyRefusal || e instanceof ProxyUnreachable)) {
        throw new PropertyBroken(`openProxyTunnel let ${e.name} escape: ${e.message}`);
      } else {
        holds(e.message.trim() !== '', () => `${e.name} without a message`);
        holds(!e.message.includes('secret'), () => `the password is in the message: ${e.message}`);
      }
    }
  },
};

/** Answers each request head on `socket` with the case's next answer. */
function serve(socket: net.Socket, context: Context): void {
  socket.on('error', () => {});
  let buffered = '';
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
      buffered = buffered.slice(end + 4);
      const current = context.current;
      const answer = current?.answers.shift();
      if (answer === undefined) {
        socket.destroy();
        return;
      }
      socket.write(answer, 'latin1');
      if (current!.answers.length > 0) continue;
      if (current!.after === 'close') {
        current!.closed = true;
        socket.end();
      } else if (current!.after === 'stream') stream(socket);
    }
  });
}

/** Bytes for ever, as fast as the client reads them, until it goes. */
function stream(socket: net.Socket): void {
  const filler = Buffer.alloc(16 * 1024, 'x');
  const more = () => {
    while (!socket.destroyed && socket.write(filler));
    if (!socket.destroyed) socket.once('drain', more);
  };
  more();
}
