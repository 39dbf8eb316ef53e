/**
 * What a WSSH endpoint (or nginx, or anything at that address) answers to
 * the tunnel's WebSocket upgrade (src/core/dial/dialer.ts, legacyServer.ts,
 * the refusal table in tunnel/refusals.ts), over a real socket: a 101 with
 * or without the right accept key and the `WSSH-Server` mark, a refusal's
 * status with `X-WSSH-Refusal` and a body, an original server's text frame
 * or close after the upgrade; then a close or silence.
 *
 * Properties: dial() resolves with an open WebSocket or rejects with a
 * TunnelError whose message is one line without control characters (the
 * peer's words escaped), within the handshake deadline and the legacy hold.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import * as fc from 'fast-check';
import { dial } from '../../../src/core/dial/dialer';
import { TunnelError } from '../../../src/core/tunnel/tunnelError';
import { REFUSALS } from '../../../src/core/tunnel/refusals';
import { parseEndpoint } from '../../../src/shared/endpoint';
import { listenTracked, type Listening } from '../../harness/echoServer';
import { mutatedText } from '../mutate';
import { PropertyBroken, holds, type FuzzTarget } from '../target';

/** Stands for the right Sec-WebSocket-Accept of the request (known only when it comes). */
const ACCEPT = '\u0001ACCEPT\u0001';

const upgraded = fc
  .record({
    accept: fc.constantFrom(ACCEPT, ACCEPT, ACCEPT, 'wrong=', ''),
    mark: fc.constantFrom('WSSH-Server: 2', 'WSSH-Server: 2', ''),
    extra: fc.array(fc.constantFrom('Sec-WebSocket-Extensions: permessage-deflate', 'Sec-WebSocket-Protocol: x', 'X-WSSH-Resume-Token: abc'), { maxLength: 2 }),
  })
  .map(
    ({ accept, mark, extra }) =>
      ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, mark, ...extra]
        .filter(Boolean)
        .join('\r\n') + '\r\n\r\n',
  );
const refused = fc
  .record({
    status: fc.oneof(fc.constantFrom(...new Set(Object.values(REFUSALS).map((r) => r.status))), fc.constantFrom(200, 301, 404, 500, 999)),
    text: fc.constantFrom('Forbidden', 'Service Unavailable', '', 'A\u00e9\u00ff'),
    code: fc.oneof(fc.constantFrom(...Object.keys(REFUSALS)), fc.constantFrom('', 'future-code', 'denied, denied', '__proto__', 'toString')),
    body: fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constantFrom('<html>\n<body>400 No required SSL certificate was sent</body>', 'line\u001b[31m red\r\nsecond'),
    ),
  })
  .map(({ status, text, code, body }) =>
    [`HTTP/1.1 ${status} ${text}`, code ? `X-WSSH-Refusal: ${code}` : '', `Content-Length: ${Buffer.byteLength(body, 'latin1')}`, 'Connection: close', '', body]
      .filter((l, i) => l !== '' || i >= 4)
      .join('\r\n'),
  );

/** A server's frame (unmasked, as RFC 6455 has a server send them), or a broken one. */
const frame = fc
  .record({
    opcode: fc.constantFrom(1, 1, 2, 8, 9, 10, 3, 0),
    payload: fc.oneof(
      fc.constantFrom('Oops:Error: Invalid host', 'Oops:Error: connect ECONNREFUSED 127.0.0.1:22', 'SSH-2.0-OpenSSH_9.2\r\n'),
      fc.string({ maxLength: 30 }),
    ),
    fin: fc.boolean(),
    masked: fc.boolean(),
  })
  .map(({ opcode, payload, fin, masked }) => {
    const data = opcode === 8 ? Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from(payload)]) : Buffer.from(payload);
    const head = Buffer.from([(fin ? 0x80 : 0) | opcode, (masked ? 0x80 : 0) | Math.min(data.length, 125)]);
    return Buffer.concat([head, masked ? Buffer.alloc(4) : Buffer.alloc(0), data.subarray(0, 125)]).toString('latin1');
  });

interface UpgradeInput {
  answer: string;
  frames: string[];
  after: 'close' | 'silent';
}

interface Context {
  server: Listening;
  current?: UpgradeInput;
}

const HANDSHAKE_MS = 1500;
const HOLD_MS = 300;

export const upgradeAnswerTarget: FuzzTarget<UpgradeInput, Context> = {
  name: 'upgrade-answer',
  about: "the server's answer to the WebSocket upgrade: 101s, refusal statuses, X-WSSH-Refusal, bodies, an old server's frames (dial)",
  arbitrary: fc.record({
    answer: mutatedText(fc.oneof(upgraded, refused), ['\r\n', ':', ' ', '\r\n\r\n', '\u0000', '\u001b', 'HTTP/1.1 ', '101'], 3),
    frames: fc.array(frame, { maxLength: 3 }),
    after: fc.constantFrom('close', 'silent'),
  }),
  testRuns: 150,
  caseMs: HANDSHAKE_MS + HOLD_MS + 3000,
  async setup() {
    const context = {} as Context;
    context.server = await listenTracked(net.createServer((socket) => serve(socket, context)));
    return context;
  },
  async teardown(context) {
    await context.server.close();
  },
  async check(input, context) {
    context.current = input;
    const endpoint = parseEndpoint(`ws://127.0.0.1:${context.server.port}/ssh`);
    try {
      const ws = await dial(endpoint, { host: 'db1.lan', port: 22 }, { proxy: false, handshakeTimeoutMs: HANDSHAKE_MS, legacyHoldMs: HOLD_MS });
      ws.terminate();
    } catch (err) {
      if (!(err instanceof TunnelError)) throw new PropertyBroken(`dial let ${(err as Error).name} escape: ${(err as Error).message}`);
      holds(err.message.trim() !== '', () => 'a TunnelError without a message');
      holds(!/[\u0000-\u001f\u007f-\u009f]/.test(err.message), () => `a control character from the peer in the message: ${JSON.stringify(err.message)}`);
    }
  },
};

function serve(socket: net.Socket, context: Context): void {
  socket.on('error', () => {});
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    if (!buffered.includes('\r\n\r\n')) return;
    socket.off('data', onData);
    const input = context.current!;
    const key = /^sec-websocket-key:\s*(\S+)/im.exec(buffered)?.[1] ?? '';
    const accept = crypto
      .createHash('sha1')
      .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
      .digest('base64');
    socket.write(input.answer.replaceAll(ACCEPT, accept) + input.frames.join(''), 'latin1');
    if (input.after === 'close') socket.end();
    socket.resume();
  };
  socket.on('data', onData);
}
