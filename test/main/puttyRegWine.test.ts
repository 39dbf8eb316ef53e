// The exported .reg file imported by a real registry: Wine's `reg import`
// (the same file format as regedit), then read back with `reg query`. Proves
// the encoding, the escaping of the key name and the value types, short of
// running PuTTY on Windows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { encodeRegFile, escapePuttySessionName, puttySessionRegText } from '../../src/main/puttyReg';
import { requireProgram } from '../fixtures/programs';
import { makeTempDir, removeTempDir } from '../fixtures/tmp';

test('Wine imports the PuTTY session with the values PuTTY reads', { timeout: 180_000 }, async (t) => {
  const wine = requireProgram(t, 'wine');
  if (!wine) return;
  const dir = makeTempDir();
  const env = { ...process.env, WINEPREFIX: path.join(dir, 'prefix'), WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
  // Wine's programs write to files more reliably than to pipes.
  const run = (args: string[]) => {
    const out = path.join(dir, 'out.txt');
    const fd = fs.openSync(out, 'w');
    const result = spawnSync(wine, args, { env, stdio: ['ignore', fd, fd], timeout: 120_000 });
    fs.closeSync(fd);
    return { status: result.status, text: fs.readFileSync(out, 'utf8').replace(/\r/g, '') };
  };
  t.after(() => {
    // Stop this prefix's wineserver (and its winedevice processes) before its folder goes.
    spawnSync(path.join(path.dirname(wine), 'wineserver'), ['-k'], { env, stdio: 'ignore', timeout: 20_000 });
    spawnSync(path.join(path.dirname(wine), 'wineserver'), ['-w'], { env, stdio: 'ignore', timeout: 20_000 });
    removeTempDir(dir);
  });

  const boot = run(['wineboot', '--init']);
  assert.equal(boot.status, 0, boot.text);
  const sessionName = 'db1 (WSSH) *.test';
  const file = path.join(dir, 'session.reg');
  fs.writeFileSync(file, encodeRegFile(puttySessionRegText({ sessionName, target: { host: 'db1.lan', port: 2222 }, listen: { host: '127.0.0.1', port: 3122 } })));
  const imported = run(['reg', 'import', `Z:${file.replace(/\//g, '\\')}`]);
  assert.equal(imported.status, 0, imported.text);

  const key = `HKCU\\Software\\SimonTatham\\PuTTY\\Sessions\\${escapePuttySessionName(sessionName)}`;
  const query = run(['reg', 'query', key]);
  assert.equal(query.status, 0, query.text);
  const values = Object.fromEntries(
    query.text
      .split('\n')
      .map((line) => /^\s+(\w+)\s+(REG_\w+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], `${m[2]} ${m[3].trim()}`]),
  );
  assert.deepEqual(values, {
    HostName: 'REG_SZ db1.lan',
    PortNumber: 'REG_DWORD 0x8ae',
    Protocol: 'REG_SZ ssh',
    ProxyMethod: 'REG_DWORD 0x3',
    ProxyHost: 'REG_SZ 127.0.0.1',
    ProxyPort: 'REG_DWORD 0xc32',
    ProxyLocalhost: 'REG_DWORD 0x1',
  });
});
