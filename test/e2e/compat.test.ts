// Compatibility with the original wssh's wire format (../shared/seed/README):
// one WebSocket per tunnel at `<endpoint>/<host>` (the bare host, port 22),
// SSH bytes as binary frames, and an old server's error as a TEXT frame sent
// after the upgrade, followed by a close.
//
// The "original-style" server and client below are written here, as small as
// the original ones: the server takes `req.url.split('/').pop()` as the host
// and connects to port 22 of it (mapped to test ports), the client pipes
// stdin and stdout through binary frames.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { WebSocketServer, type WebSocket } from 'ws';
import { requirePrograms } from '../fixtures/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { runProgram, killOnExit } from '../fixtures/child';
import { freePort } from '../fixtures/freePort';
import { startEcho } from '../fixtures/byteStreams';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { connectThroughProxy, readExactly, endedWithin, waitFor } from '../fixtures/tunnel';

interface OldServer {
  port: number;
  /** Every upgrade request's URL, in order. */
  urls: string[];
  close(): Promise<void>;
}

/**
 * An original-style WSSH server. `ports` stands in for DNS: the host a client
 * names is connected to on 127.0.0.1 at ports[host] (port "22" of that host);
 * a host not in the map gets a port nobody listens on.
 */
async function startOldServer(ports: Record<string, number>, closedPort: number): Promise<OldServer> {
  const urls: string[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws: WebSocket, req) => {
    urls.push(req.url ?? '');
    const host = (req.url ?? '').split('/').pop()!;
    if (host === 'banner-then-error') {
      // Not something the original did, but what a client must survive: SSH
      // bytes, then a control message, on one tunnel.
      ws.send(Buffer.from('SSH-2.0-OldServer\r\n'), { binary: true });
      ws.send('the target went away');
      ws.close();
      return;
    }
    const port = Object.hasOwn(ports, host) ? ports[host] : closedPort;
    const tcp = net.connect({ host: '127.0.0.1', port });
    let connected = false;
    tcp.on('connect', () => (connected = true));
    tcp.on('data', (data) => ws.send(data, { binary: true }));
    tcp.on('end', () => ws.close());
    tcp.on('error', (err) => {
      // The original's way to report a failure: a text frame, then close.
      if (!connected) ws.send(`Cannot connect to ${host}:22: ${(err as NodeJS.ErrnoException).code}`);
      ws.close();
    });
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) tcp.write(data);
    });
    ws.on('close', () => tcp.end());
    ws.on('error', () => tcp.destroy());
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return {
    port: (wss.address() as net.AddressInfo).port,
    urls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** An original-style client: stdin to binary frames, frames to stdout; exits when the WebSocket closes. */
function oldClientScript(dir: string): string {
  const file = path.join(dir, 'old-client.js');
  fs.writeFileSync(
    file,
    `const WebSocket = require(${JSON.stringify(require.resolve('ws'))});
const ws = new WebSocket(process.argv[2]);
ws.on('open', () => {
  process.stdin.on('data', (chunk) => ws.send(chunk));
  process.stdin.on('end', () => ws.close());
  ws.on('message', (data) => process.stdout.write(data));
});
ws.on('close', () => process.stdout.write('', () => process.exit(0)));
ws.on('error', (err) => { process.stderr.write(String(err) + '\\n'); process.exit(1); });
`,
  );
  return file;
}

test('our clients against an original-style server', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc');
  if (!programs) return;
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const closedPort = await freePort();
  const old = await startOldServer({ localhost: sshd.port }, closedPort);
  t.after(() => old.close());
  const endpoint = `ws://127.0.0.1:${old.port}/ssh`;

  await t.test('wssh client: ssh runs a command; the path is the bare host', async () => {
    const before = old.urls.length;
    const proxyCommand = `${process.execPath} ${WSSH_CLI} client ${endpoint}/%h`;
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.deepEqual(old.urls.slice(before), ['/ssh/localhost']);
  });

  await t.test('wssh connect: ssh through nc runs a command; CONNECT host:22 becomes the bare host', async (st) => {
    const proxy = await spawnWsshConnect(endpoint);
    st.after(() => proxy.stop());
    const before = old.urls.length;
    // Port 22 for the proxy (%p would be the test sshd's port, which the old server cannot express).
    const proxyCommand = `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h 22`;
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${proxy.output()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.deepEqual(old.urls.slice(before), ['/ssh/localhost']);
  });

  await t.test('wssh client: the old server\'s text frame is an error on stderr, never in the stream', async () => {
    // Alone: nothing on stdout, the message on stderr, exit code 1.
    const r = await runProgram(process.execPath, [WSSH_CLI, 'client', `${endpoint}/unreachable-host`], {
      input: '',
      timeoutMs: 15_000,
    });
    assert.equal(r.stdout.length, 0, `stdout must stay empty, got ${JSON.stringify(r.stdout.toString())}`);
    assert.equal(r.stderr, 'wssh: the server says: Cannot connect to unreachable-host:22: ECONNREFUSED\n');
    assert.equal(r.code, 1);

    // Binary bytes then a text frame: stdout holds exactly the binary bytes.
    const mixed = await runProgram(process.execPath, [WSSH_CLI, 'client', `${endpoint}/banner-then-error`], {
      input: '',
      timeoutMs: 15_000,
    });
    assert.equal(mixed.stdout.toString('latin1'), 'SSH-2.0-OldServer\r\n');
    assert.equal(mixed.stderr, 'wssh: the server says: the target went away\n');
    assert.equal(mixed.code, 1);

    // Under ssh: the user sees the reason, at once. (ssh's ProxyCommand stdio
    // are pipes: ssh sees the end only when wssh client exits, so an exit
    // that waited for ssh to close stdin first would keep ssh hanging.)
    const proxyCommand = `${process.execPath} ${WSSH_CLI} client ${endpoint}/%h`;
    const started = Date.now();
    const s = await runSsh([...sshArgs(sshd, { host: 'unreachable-host', proxyCommand }), 'echo ok']);
    const tookMs = Date.now() - started;
    assert.equal(s.code, 255);
    assert.match(s.stderr, /^wssh: the server says: Cannot connect to unreachable-host:22: ECONNREFUSED$/m);
    assert.match(s.stderr, /Connection closed by remote host/);
    assert.ok(tookMs < 3000, `ssh took ${tookMs} ms to report the closed tunnel`);
  });

  await t.test('wssh connect: the text frame ends the tunnel without a byte of it reaching the client', async (st) => {
    const proxy = await spawnWsshConnect(endpoint);
    st.after(() => proxy.stop());
    // The old server accepts the upgrade before it tries the target, so the proxy has already said 200.
    const tunnel = await connectThroughProxy(proxy.port, 'unreachable-host:22');
    assert.equal(tunnel.statusLine, 'HTTP/1.1 200 Connection established');
    const received: Buffer[] = [];
    tunnel.socket.on('data', (c: Buffer) => received.push(c));
    assert.ok(await endedWithin(tunnel.socket, 10_000), 'the tunnel should end');
    assert.equal(Buffer.concat(received).length, 0);
    tunnel.socket.end();
    await waitFor('the proxy to log the reason', () =>
      /tunnel \d+ closed unreachable-host up=0 down=0 \(peer said: Cannot connect to unreachable-host:22: ECONNREFUSED\)/.test(proxy.output()),
      10_000,
      () => proxy.output(),
    );
  });
});

test('an original-style client against our wssh server', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-compat-');
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const echo = await startEcho();
  t.after(() => echo.close());
  // Old clients only know port 22: the policy maps bare names to the test ports.
  const hostsFile = writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\necho-host: "127.0.0.1:${echo.port}"\n`);
  const server = await spawnWsshServer(hostsFile);
  t.after(() => server.stop());
  const oldClient = oldClientScript(dir);

  await t.test('ssh with the old client as ProxyCommand runs a command', async () => {
    const proxyCommand = `${process.execPath} ${oldClient} ws://127.0.0.1:${server.port}/ssh/%h`;
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${server.output()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
  });

  await t.test('bytes through the old client come back exactly from an echo target', async (st) => {
    const child = spawn(process.execPath, [oldClient, `ws://127.0.0.1:${server.port}/ssh/echo-host`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    killOnExit(child);
    st.after(() => child.kill());
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const data = crypto.randomBytes(4 * 1024 * 1024);
    const echoed = readExactly(child.stdout as unknown as net.Socket, data.length, 30_000);
    child.stdin.write(data);
    const back = await echoed.catch((err: Error) => {
      throw new Error(`${err.message}\nold client stderr: ${stderr}\n${server.output()}`);
    });
    assert.equal(crypto.createHash('sha256').update(back).digest('hex'), crypto.createHash('sha256').update(data).digest('hex'));
    // Closing stdin closes the WebSocket; the server logs the bytes both ways.
    child.stdin.end();
    await waitFor('the old client to exit', () => child.exitCode !== null, 10_000, () => stderr);
    assert.equal(child.exitCode, 0);
    await waitFor('the server\'s close line', () =>
      new RegExp(`tunnel \\d+ closed client=127\\.0\\.0\\.1 target=echo-host via=127\\.0\\.0\\.1:${echo.port} up=${data.length} down=${data.length} `).test(server.output()),
      10_000,
      () => server.output(),
    );
  });
});
