// A hostile WSSH server and a hostile SOCKS client (issue 10): a 1 MiB text
// frame with terminal escapes (OSC 52 writes the clipboard) and a forged log
// line, a close reason with escapes, and SOCKS host bytes with CR/LF. None of
// it may reach `wssh client`'s stderr, `wssh connect`'s log or the tray's log
// raw or unbounded.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { WebSocketServer } from 'ws';
import { SERVER_MARK_HEADER, SERVER_MARK_VALUE } from '../../src/core/dial/legacyServer';
import { runProgram } from '../../scripts/harness/processes';
import { WSSH_CLI, spawnWsshConnect } from '../fixtures/wssh';
import { waitFor } from '../fixtures/tunnel';
import { LogBook } from '../../src/main/window/logBook';
import { LOG_LINE_MAX_BYTES, PEER_TEXT_MAX_BYTES, peerText } from '../../src/core/tunnel/peerText';

const OSC52 = '\u001b]52;c;ZWNobyBwd25lZA==\u0007';
const FORGED = '\r\n2026-01-01T00:00:00.000Z tunnel 1 open 127.0.0.1 -> trusted.lan\n';
const HUGE = OSC52 + FORGED + 'x'.repeat(1000 * 1024) + '\u202eevil';

let hostile: WebSocketServer;
let endpoint: string;

before(async () => {
  hostile = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 4 * 1024 * 1024 });
  // It claims to be a current server, so its text frame goes to the open tunnel
  // (an unmarked one would be taken for an old server's refusal, which is cut too).
  hostile.on('headers', (headers) => headers.push(`${SERVER_MARK_HEADER}: ${SERVER_MARK_VALUE}`));
  hostile.on('connection', (ws) => {
    ws.send(HUGE);
    ws.close(1011, `\u001b[2J\u001b]0;title\u0007bye\r\nforged`);
  });
  await new Promise((resolve) => hostile.once('listening', resolve));
  endpoint = `ws://127.0.0.1:${(hostile.address() as net.AddressInfo).port}/ssh`;
});
after(() => new Promise((resolve) => hostile.close(resolve)));

function assertSafe(text: string, what: string): void {
  assert.doesNotMatch(text, /[\u001b\u0007\u009b\u202e]/, `${what} holds a control character`);
  assert.doesNotMatch(text, /\n2026-01-01T00:00:00\.000Z tunnel 1 open/, `${what} holds a forged line`);
}

test('peerText: escapes controls, C1, bidi; cuts to a few hundred bytes', () => {
  assert.equal(peerText('a\u001b[31mb\r\nc\u0085d\u202ee'), 'a\\x1b[31mb\\x0d\\x0ac\\x85d\\u202ee');
  const cut = peerText('é'.repeat(1000));
  assert.ok(Buffer.byteLength(cut) <= PEER_TEXT_MAX_BYTES + 3 && cut.endsWith('…'), cut);
  assert.equal(peerText(Buffer.from([0x68, 0xff, 0x69])), 'h\ufffdi');
  assert.equal(peerText('db1.lan'), 'db1.lan');
});

test("wssh client: a hostile server's text frame and close reason reach stderr escaped and cut", async () => {
  // stdin stays open: the server's close ends the tunnel.
  const stdin = new PassThrough();
  const r = await runProgram(process.execPath, [WSSH_CLI, 'client', `${endpoint}/db1.lan`, '--keepalive', '0'], { input: stdin, timeoutMs: 20_000 });
  stdin.destroy();
  const stderr = r.stderr.toString();
  assertSafe(stderr, 'stderr');
  assert.ok(stderr.length < 4096, `stderr is ${stderr.length} bytes`);
  assert.match(stderr, /the server says: \\x1b\]52;c;/);
});

test('wssh connect: the log stays one bounded line per event (text frames, close reasons, SOCKS host bytes)', async (t) => {
  const proxy = await spawnWsshConnect(endpoint, ['--keepalive', '0']);
  t.after(() => proxy.stop());
  // A CONNECT whose tunnel gets the hostile frame and close.
  const c = net.connect(proxy.port, '127.0.0.1');
  c.on('error', () => {});
  c.write('CONNECT db1.lan:22 HTTP/1.1\r\nHost: db1.lan:22\r\n\r\n');
  await waitFor('the tunnel to close', () => / closed db1\.lan/.test(proxy.output()), 15_000, proxy.output);
  c.destroy();
  // SOCKS5 with a host name holding CR/LF and ESC: a forged log line, were it written raw.
  const host = Buffer.from(`x\u001b[2J${FORGED}`, 'latin1');
  const s = net.connect(proxy.port, '127.0.0.1');
  s.on('error', () => {});
  s.write(Buffer.from([5, 1, 0]));
  s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, host.length]), host, Buffer.from([0, 22])]));
  await waitFor('the SOCKS refusal', () => /refused .*bad SOCKS5 target/.test(proxy.output()), 15_000, proxy.output);
  s.destroy();
  const log = proxy.output();
  assertSafe(log, 'the log');
  for (const line of log.split('\n')) assert.ok(Buffer.byteLength(line) <= LOG_LINE_MAX_BYTES + 40, `a line of ${line.length} bytes`);
});

test("the tray's log book caps every line, keeps it one line and escapes it, whoever wrote the text", () => {
  const book = new LogBook();
  const line = book.add('warn', HUGE);
  assert.ok(Buffer.byteLength(line.text) <= LOG_LINE_MAX_BYTES + 3, `${line.text.length}`);
  assert.doesNotMatch(line.text, /[\r\n]/);
  assertSafe(line.text, 'the log book');
});
