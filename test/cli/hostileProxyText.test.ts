// Text from a proxy, a PAC script, a PAC server and a WSSH server, all
// hostile, on loopback (issue 24, item 3): a status line, a 407's scheme, a
// PAC exception or answer carrying OSC 52 (which writes the clipboard), CSI
// sequences (the 7-bit ESC [ and the 8-bit C1 CSI) and a bidi override.
// `wssh client` and `wssh connect` run as the user runs them; what reaches
// their stderr must be escaped, each line one line, with the text still
// there to read (as `\x1b]52…`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from '../fixtures/tmp';
import { cleanEnv, runWssh, spawnWsshConnectWith } from '../fixtures/wssh';
import { waitFor } from '../fixtures/tunnel';

/** OSC 52 (set the clipboard to "pwned"), clear the screen, and an 8-bit CSI: as bytes on the wire. */
const WIRE = Buffer.from('\u001b]52;c;cHduZWQ=\u0007\u001b[2J\u009b31m', 'latin1');
/** The same in a script's own text (UTF-8), with a right-to-left override. */
const SCRIPT_TEXT = '\\u001b]52;c;cHduZWQ=\\u0007\\u001b[2J\\u009b31m\\u202eevil';
/** For a proxy in a PAC answer, whose entries a ";" would split: CSI (7 and 8 bits) and the override. */
const HOST_TEXT = '\\u001b[2J\\u009b31m\\u202eevil';

function assertEscaped(text: string, what: string): void {
  assert.doesNotMatch(text, /[\u001b\u0007\u0080-\u009f\u202e]/, `${what} holds a raw control character: ${JSON.stringify(text)}`);
  for (const line of text.split('\n')) assert.doesNotMatch(line, /\r/, `${what} holds a CR inside a line`);
}

/** A TCP server on loopback that answers the first request on each connection with `answer`. */
async function hostileServer(t: { after(fn: () => unknown): void }, answer: Buffer): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as net.AddressInfo).port;
}

const head = (statusLine: Buffer, headers = '') =>
  Buffer.concat([Buffer.from('HTTP/1.1 '), statusLine, Buffer.from(`\r\n${headers}Content-Length: 0\r\nConnection: close\r\n\r\n`)]);

async function client(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return runWssh(['client', ...args, '--keepalive', '0'], { env: cleanEnv() });
}

test("a proxy's status line, on a refusal and on a 407, reaches wssh client's stderr escaped", async (t) => {
  const refusing = await hostileServer(t, head(Buffer.concat([Buffer.from('403 '), WIRE])));
  let r = await client(['ws://127.0.0.1:9/ssh/db1.lan', '--proxy', `http://127.0.0.1:${refusing}`]);
  assert.equal(r.code, 1, r.stderr);
  assertEscaped(r.stderr, 'stderr');
  assert.match(r.stderr, /refused to connect to 127\.0\.0\.1:9 \(403 \\x1b\]52;c;cHduZWQ=\\x07\\x1b\[2J\\x9b31m\)/);

  // A 407 takes the sign-in's words: what the proxy wants, and what it said.
  const asking = await hostileServer(t, head(Buffer.concat([Buffer.from('407 '), WIRE]), 'Proxy-Authenticate: Digest realm="x"\r\n'));
  r = await client(['ws://127.0.0.1:9/ssh/db1.lan', '--proxy', `http://127.0.0.1:${asking}`]);
  assert.equal(r.code, 1, r.stderr);
  assertEscaped(r.stderr, 'stderr');
  assert.match(r.stderr, /wants Digest \(407 \\x1b\]52;c;cHduZWQ=\\x07\\x1b\[2J\\x9b31m\)/);
});

test("a WSSH server's status line reaches wssh client's stderr escaped", async (t) => {
  const server = await hostileServer(t, head(Buffer.concat([Buffer.from('403 '), WIRE])));
  const r = await client([`ws://127.0.0.1:${server}/ssh/db1.lan`]);
  assert.equal(r.code, 1, r.stderr);
  assertEscaped(r.stderr, 'stderr');
  assert.match(r.stderr, /refused by the WSSH server \(403 \\x1b\]52;c;/);
});

test("a PAC server's status line, a PAC script's exception and its answers reach wssh client's stderr escaped", async (t) => {
  const pacServer = await hostileServer(t, head(Buffer.concat([Buffer.from('500 '), WIRE])));
  let r = await client(['ws://127.0.0.1:9/ssh/db1.lan', '--pac', `http://127.0.0.1:${pacServer}/proxy.pac`]);
  assert.equal(r.code, 1, r.stderr);
  assertEscaped(r.stderr, 'stderr');
  assert.match(r.stderr, /cannot fetch the PAC file .*: 500 \\x1b\]52;c;/);

  const dir = tempDir(t);
  const script = (body: string) => {
    const file = path.join(dir, `${fs.readdirSync(dir).length}.pac`);
    fs.writeFileSync(file, `function FindProxyForURL(url, host) { ${body} }`);
    return file;
  };
  const cases: Array<[string, RegExp]> = [
    [`throw "${SCRIPT_TEXT}";`, /failed for http:\/\/127\.0\.0\.1:9\/ssh: \\x1b\]52;c;.*\\u202eevil/],
    [`return "${SCRIPT_TEXT}";`, /"\\x1b\]52;c;.*\\u202eevil" has no HTTP proxy and no DIRECT/],
    [`return "PROXY ${HOST_TEXT}:3128";`, /\\x1b\[2J\\x9b31m\\u202eevil:3128/],
  ];
  for (const [body, expected] of cases) {
    r = await client(['ws://127.0.0.1:9/ssh/db1.lan', '--pac', script(body)]);
    assert.equal(r.code, 1, r.stderr);
    assertEscaped(r.stderr, `stderr for ${body}`);
    assert.match(r.stderr, expected);
  }
});

test("wssh connect: a proxy's status line and a PAC answer reach its log escaped", async (t) => {
  const refusing = await hostileServer(t, head(Buffer.concat([Buffer.from('403 '), WIRE])));
  const dir = tempDir(t);
  const pac = path.join(dir, 'proxy.pac');
  // The first route is the refusing proxy; the start-up line shows the second as the script wrote it.
  fs.writeFileSync(pac, `function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:${refusing}; PROXY ${HOST_TEXT}:1"; }`);
  const proxy = await spawnWsshConnectWith(['ws://127.0.0.1:9/ssh', '--pac', pac, '--keepalive', '0'], cleanEnv());
  t.after(() => proxy.stop());
  const c = net.connect(proxy.port, '127.0.0.1');
  c.on('error', () => {});
  c.write('CONNECT db1.lan:22 HTTP/1.1\r\nHost: db1.lan:22\r\n\r\n');
  await waitFor('the refusal in the log', () => /refused db1\.lan/.test(proxy.output()), 15_000, proxy.output);
  c.destroy();
  const log = proxy.output();
  assertEscaped(log, 'the log');
  assert.match(log, /\(403 \\x1b\]52;c;cHduZWQ=\\x07/);
  assert.match(log, /then http:\/\/\\x1b\[2J\\x9b31m\\u202eevil:1/);
});
