// Secrets in CLI error paths and warnings (issue 10): a secret holding "/"
// is masked wherever it came from (endpoint URI, --proxy, HTTP_PROXY);
// credentials over plain ws:// to another host and a proxy listening beyond
// loopback are warned about.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runProgram } from '../../scripts/harness/processes';
import { WSSH_CLI, spawnWsshConnect } from '../fixtures/wssh';
import { waitFor } from '../fixtures/tunnel';

const SECRET_PARTS = ['se/cr', 'pa/ss', '12/34', 'cr@et'];

async function wssh(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const r = await runProgram(process.execPath, [WSSH_CLI, ...args], { input: '', timeoutMs: 10_000, env: { ...process.env, ...env } });
  return { code: r.code, stderr: r.stderr.toString() };
}

test('a secret with "/" is masked in every CLI error path', async () => {
  const runs = [
    await wssh(['connect', 'ws://alice:se/cr@et@127.0.0.1:1/ssh']),
    await wssh(['connect', 'ws://alice:se/cret@127.0.0.1:99999/ssh']),
    await wssh(['client', 'ws://alice:se/cret@db1.lan/ssh/x']),
    await wssh(['connect', 'ws://h/ssh', '--proxy', 'http://alice:pa/ss@proxy:3128']),
    await wssh(['connect', 'ws://h/ssh', '--proxy', 'http://alice:12/34@proxy:3128']),
    await wssh(['connect', 'ws://h/ssh', '--listen', '127.0.0.1:0'], { HTTP_PROXY: 'http://alice:pa/ss@proxy:3128' }),
    await wssh(['client', 'ws://h/ssh/x'], { HTTP_PROXY: 'http://alice:12/34@proxy:3128' }),
  ];
  for (const r of runs) {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /\*\*\*@/, r.stderr);
    for (const part of SECRET_PARTS) assert.ok(!r.stderr.includes(part), `"${part}" in: ${r.stderr}`);
  }
});

test('credentials over ws:// to another host and a non-loopback listen are warned about', async (t) => {
  const proxy = await spawnWsshConnect('ws://alice:s3cret@192.0.2.1:4567/ssh', ['--listen', '0.0.0.0:0']);
  t.after(() => proxy.stop());
  const out = await waitFor('the warnings', () => /listening on 0\.0\.0\.0, not loopback/.test(proxy.output()) && proxy.output(), 5000, proxy.output);
  assert.match(out, /warning: the secret of ws:\/\/alice:\*\*\*@192\.0\.2\.1:4567\/ssh goes to 192\.0\.2\.1 unencrypted \(ws:\/\/\)/);
  assert.doesNotMatch(out, /s3cret/);
  // Loopback: no warning.
  const local = await spawnWsshConnect('ws://alice:s3cret@127.0.0.1:4567/ssh');
  t.after(() => local.stop());
  assert.doesNotMatch(local.output(), /warning/);
});
