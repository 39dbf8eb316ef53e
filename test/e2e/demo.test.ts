// `npm run demo`'s check against a real sshd: it reads the banner through
// the demo's own proxy and server, and the demo stops cleanly on SIGTERM.
// (A port in use, and a check where nothing listens: test/scripts/demo.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireProgram } from '../../scripts/harness/programs';
import { startDemo } from '../fixtures/demo';
import { startSshd } from '../fixtures/sshd';
import { tempDir } from '../fixtures/tmp';
import { writeHosts } from '../fixtures/wssh';

test("the demo's check reads the SSH banner of a real sshd through its own proxy", async (t) => {
  if (!requireProgram(t, 'sshd')) return;
  const sshd = await startSshd();
  const dir = tempDir(t);
  const hosts = writeHosts(dir, `"127.0.0.1:${sshd.port}": true\n`);
  const { demo, verdict } = await startDemo({ serverListen: '127.0.0.1:0', proxyListen: '127.0.0.1:0', hosts, check: { host: '127.0.0.1', port: sshd.port } });
  try {
    assert.match(
      verdict,
      new RegExp(`^Checked: 127\\.0\\.0\\.1:${sshd.port} answers through the demo's own proxy and server: SSH-2\\.0-OpenSSH`),
      demo.output(),
    );
    await demo.stop('SIGTERM', 10_000);
    assert.deepEqual(demo.exitStatus(), { code: 0, signal: null }, demo.output());
  } finally {
    await demo.stop('SIGKILL');
    await sshd.stop();
  }
});
