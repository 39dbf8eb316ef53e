// reg.exe on Windows Node under wine (TESTING.md): `wssh connect --proxy
// system` started from a folder that holds a planted `reg.exe` must run
// System32's reg.exe, never the planted one. Windows looks for a bare program
// name in the current directory before PATH, so execFile('reg.exe') would run
// the plant.
//
// The plant is Windows Node itself named reg.exe, beside a script named
// `query`: run as `reg.exe query KEY`, that Node would run `query` as its
// script, which leaves a marker file and answers with a proxy of its own.
// The real Internet Settings are written into the prefix's registry with
// `wine reg add`; the start-up line must show them, and no marker may appear.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startWine, winPath, WSSH_CLI_LINUX } from '../../fixtures/wine';
import { wineReg } from '../../fixtures/wineReg';
import { waitFor } from '../../fixtures/tunnel';

const KEY = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
const MARKER = 'planted-reg-ran';

// What the plant's Node runs: the marker, then an answer in reg's shape naming a proxy that is not the user's.
const PLANTED_QUERY = `
require('fs').writeFileSync(require('path').join(__dirname, ${JSON.stringify(MARKER)}), process.argv.slice(2).join(' '));
process.stdout.write('\\r\\nHKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Internet Settings\\r\\n' +
  '    ProxyEnable    REG_DWORD    0x1\\r\\n    ProxyServer    REG_SZ    planted.invalid:1\\r\\n');
`;

test("--proxy system on Windows Node runs System32's reg.exe, not a reg.exe in its current folder", { timeout: 300_000 }, async (t) => {
  const win = await startWine(t);
  if (!win) return;
  const folder = path.join(win.dir, 'Downloads');
  fs.mkdirSync(folder);
  fs.copyFileSync(win.nodeExe, path.join(folder, 'reg.exe'));
  fs.writeFileSync(path.join(folder, 'query'), PLANTED_QUERY);

  for (const [name, type, data] of [
    ['ProxyEnable', 'REG_DWORD', '1'],
    ['ProxyServer', 'REG_SZ', '127.0.0.1:31280'],
  ]) {
    const r = await wineReg(win, ['add', KEY, '/v', name, '/t', type, '/d', data, '/f']);
    assert.equal(r.code, 0, `wine reg add ${name}: ${r.output}`);
  }

  const args = [winPath(WSSH_CLI_LINUX), 'connect', 'ws://127.0.0.1:9/ssh', '--listen', '127.0.0.1:0', '--proxy', 'system'];
  const proc = win.spawnNode(args, { name: 'wssh-connect', cwd: folder });
  t.after(() => proc.stop());
  const reached = () => /reaching .* by /.test(proc.stderr()) || proc.exitStatus() !== undefined;
  await waitFor('the line saying how the endpoint is reached', reached, 120_000, () => proc.output());
  const marker = path.join(folder, MARKER);
  assert.ok(!fs.existsSync(marker), `the planted reg.exe ran (with ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}):\n${proc.output()}`);
  const said = /the Windows proxy settings say the proxy 127\.0\.0\.1:31280: reaching ws:\/\/127\.0\.0\.1:9\/ssh by http:\/\/127\.0\.0\.1:31280\n/;
  assert.match(proc.stderr(), said, proc.output());
});
