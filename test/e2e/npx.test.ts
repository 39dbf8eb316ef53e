// `npx wssh` in a checkout, as the README's quick start uses it. npm 11 runs
// it by installing the checkout into its npx cache, which runs the package's
// `prepare` script in the checkout itself: a rebuild of dist/. That is why
// this test is in the end-to-end part, which runs one file at a time: beside
// other test files (the unit part runs two at once) it pulls dist/ from under
// them.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { runProgram } from '../../scripts/harness/processes';
import { WSSH_CLI } from '../fixtures/wssh';

test('the built bin is executable, so `npx wssh` works in a checkout after the build', { skip: process.platform === 'win32' }, async () => {
  const direct = await runProgram(WSSH_CLI, ['--version']);
  assert.equal(direct.code, 0, direct.stderr);
  const repo = path.join(__dirname, '..', '..', '..');
  const viaNpx = await runProgram('npx', ['--no-install', 'wssh', '--version'], { cwd: repo, timeoutMs: 120_000 });
  assert.equal(viaNpx.code, 0, viaNpx.stderr);
  assert.match(viaNpx.stdout.toString(), /^wssh \d+\.\d+\.\d+/);
});
