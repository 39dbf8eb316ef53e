// The exported .reg files imported by a real registry: Wine's `reg import`
// (the same file format as regedit), then read back with `reg query`. Proves
// the encoding, the escaping of the key name and the value types, short of
// running PuTTY on Windows: each session lands as exactly one key under
// PuTTY's Sessions key, named as PuTTY names it, with every value PuTTY reads
// under its name and type.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Target } from '../../../src/shared/target';
import { encodeRegFile, escapePuttySessionName, puttySessionRegText, regFileName } from '../../../src/main/savedSessions/puttyReg';
import { startWine, winPath } from '../../fixtures/wine';
import { wineReg } from '../../fixtures/wineReg';

const SESSIONS = 'HKCU\\Software\\SimonTatham\\PuTTY\\Sessions';

/** `reg query` output → { name: 'REG_TYPE value' } for the values directly under the key. */
function parseValues(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^\s+(\w+)\s+(REG_\w+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], `${m[2]} ${m[3].trim()}`]),
  );
}

/** `reg query KEY` output → the full names of its subkeys. */
function parseSubkeys(text: string, key: string): string[] {
  const prefix = key.replace(/^HKCU\\/, 'HKEY_CURRENT_USER\\') + '\\';
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

interface Case {
  sessionName: string;
  /** The key name PuTTY uses (its escape_registry_key), written out by hand. */
  key: string;
  target: Target;
}

// Every character PuTTY escapes (space, \ * ? %, control characters, bytes
// above ~ including DEL and each byte of a UTF-8 character, a leading dot),
// and printable ones it leaves alone, some of which mean something in a
// .reg file or a registry path ([ ] " / = @).
const CASES: Case[] = [
  { sessionName: 'db1 (WSSH) *.test', key: 'db1%20(WSSH)%20%2A.test', target: { host: 'db1.lan', port: 2222 } },
  { sessionName: '.hidden.name', key: '%2Ehidden.name', target: { host: 'hidden.lan', port: 22 } },
  { sessionName: 'back\\slash? 100%', key: 'back%5Cslash%3F%20100%25', target: { host: '10.0.0.7', port: 22 } },
  { sessionName: 'tab\there\x7fdel', key: 'tab%09here%7Fdel', target: { host: 'db2.lan', port: 22 } },
  { sessionName: 'Zürich büro', key: 'Z%C3%BCrich%20b%C3%BCro', target: { host: 'zh.example.ch', port: 22 } },
  { sessionName: 'rack[3] "prod"/eu=@x', key: 'rack[3]%20"prod"/eu=@x', target: { host: '::1', port: 65535 } },
];

test('Wine imports each PuTTY session with the values PuTTY reads', { timeout: 300_000 }, async (t) => {
  const win = await startWine(t);
  if (!win) return;

  for (const c of CASES) assert.equal(escapePuttySessionName(c.sessionName), c.key, `escaping ${JSON.stringify(c.sessionName)}`);

  for (const [i, c] of CASES.entries()) {
    const file = path.join(win.dir, `${i}-${regFileName(c.sessionName)}`);
    fs.writeFileSync(file, encodeRegFile(puttySessionRegText({ sessionName: c.sessionName, target: c.target, listen: { host: '127.0.0.1', port: 3122 } })));
    const imported = await wineReg(win, ['import', winPath(file)]);
    assert.equal(imported.code, 0, `reg import for ${JSON.stringify(c.sessionName)}: ${imported.output}`);
  }

  // Exactly one key per session, named as PuTTY looks it up: nothing split
  // at a backslash or cut at a bracket.
  const list = await wineReg(win, ['query', SESSIONS]);
  assert.equal(list.code, 0, list.output);
  assert.deepEqual(parseSubkeys(list.output, SESSIONS).sort(), CASES.map((c) => c.key).sort(), list.output);

  for (const c of CASES) {
    const query = await wineReg(win, ['query', `${SESSIONS}\\${c.key}`]);
    assert.equal(query.code, 0, query.output);
    assert.deepEqual(
      parseValues(query.output),
      {
        HostName: `REG_SZ ${c.target.host}`,
        PortNumber: `REG_DWORD 0x${c.target.port.toString(16)}`,
        Protocol: 'REG_SZ ssh',
        ProxyMethod: 'REG_DWORD 0x3',
        ProxyHost: 'REG_SZ 127.0.0.1',
        ProxyPort: 'REG_DWORD 0xc32',
        ProxyLocalhost: 'REG_DWORD 0x1',
      },
      `${JSON.stringify(c.sessionName)}:\n${query.output}`,
    );
  }
});
