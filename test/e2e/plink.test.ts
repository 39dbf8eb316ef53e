// PuTTY's plink end to end, the way Windows users connect: a saved session
// whose proxy is HTTP at `wssh connect`, then wssh server, then a real sshd.
// plink 0.78 has no proxy flags; the session file carries the proxy
// (TESTING.md, "PuTTY's plink through an HTTP proxy").

import { test } from 'node:test';
import type { Readable } from 'node:stream';
import * as assert from 'node:assert/strict';
import { requirePrograms } from '../../scripts/harness/programs';
import { puttyKey, startSshd } from '../fixtures/sshd';
import { plinkSession, plinkAt } from '../fixtures/plink';
import { spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { patternDigest, patternStream } from '../fixtures/byteStreams';
import { waitForOutput } from '../../scripts/harness/processes';

test('plink through wssh connect and wssh server to sshd', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'plink', 'puttygen');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-plink-');

  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const ppk = await puttyKey(sshd);

  // plink asks the proxy for localhost:PORT (-P PORT, names sent unresolved).
  const hostsFile = writeHosts(dir, `"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`);
  const server = await spawnWsshServer(hostsFile);
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`);
  t.after(() => proxy.stop());

  const home = dir;
  plinkSession(home, 'wssh', { proxyHost: '127.0.0.1', proxyPort: proxy.port });
  const run = plinkAt({ home, sshd, ppk, plink: programs.plink });
  const plink = (host: string, command: string, input?: Readable | string) => run('wssh', host, command, input);
  const logs = () => `--- wssh server:\n${server.output()}\n--- wssh connect:\n${proxy.output()}`;

  await t.test('runs a command', async () => {
    const r = await plink('localhost', 'echo ok');
    assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    // It really went through the proxy (a plink that bypassed it would also print ok).
    await waitForOutput(proxy, new RegExp(`tunnel \\d+ open 127\\.0\\.0\\.1:\\d+ -> localhost:${sshd.port}`));
    await waitForOutput(server, new RegExp(`tunnel \\d+ open client=127\\.0\\.0\\.1 target=localhost:${sshd.port} via=127\\.0\\.0\\.1:${sshd.port}`));
  });

  await t.test("carries a command's stdin byte-exact (sha256sum of 8 MiB)", async (st) => {
    const size = 8 * 1024 * 1024;
    const expected = await patternDigest(size, 'plink');
    const started = Date.now();
    const r = await plink('localhost', 'sha256sum', patternStream(size, 'plink'));
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, `plink failed: ${r.stderr}\n${logs()}`);
    assert.equal(r.stdout.toString(), `${expected}  -\n`);
    st.diagnostic(`plink stdin 8 MiB in ${seconds.toFixed(2)} s (${(8 / seconds).toFixed(1)} MiB/s, including the SSH login)`);
  });

  await t.test("a denied host: plink shows the proxy's 403", async () => {
    const r = await plink('nope.example', 'echo ok');
    assert.equal(r.code, 1, `plink should fail: ${r.stdout}`);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /FATAL ERROR: Proxy error: HTTP response 403 Forbidden/);
    await waitForOutput(proxy, new RegExp(`refused nope\\.example:${sshd.port} from 127\\.0\\.0\\.1:\\d+: 403 .*no rule allows nope\\.example:${sshd.port}`));
  });
});
