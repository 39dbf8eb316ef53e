// The WSSH server's --allow-origin, as the command line takes it: what is
// not an origin is refused. What a web page of another origin gets from the
// server, in a real Chromium: test/e2e/origin.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runProgram } from '../../scripts/harness/processes';
import { WSSH_CLI } from '../fixtures/wssh';

test('--allow-origin refuses what is not an origin', async () => {
  const r = await runProgram(process.execPath, [WSSH_CLI, 'server', '--allow-origin', 'https://x.example/path'], { timeoutMs: 10_000 });
  assert.equal(r.code, 2);
  assert.match(r.stderr.toString(), /--allow-origin "https:\/\/x\.example\/path" is not an origin/);
});
