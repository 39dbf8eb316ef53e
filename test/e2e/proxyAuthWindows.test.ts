// Signing in to a proxy from Windows Node (node.exe under wine, TESTING.md
// "Windows Node under wine"): `wssh client` on Windows, through squid
// offering Negotiate and NTLM, with `CORP\alice` in the URL. The checkout's
// kerberos.node is a Linux build, which Windows Node cannot load: that is
// the "native module missing" case for real. One line says Negotiate is
// off and why, NTLM signs in, and a file's bytes arrive byte-exact at the
// far end (stdin a file: the tunnel ends when it does).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { requirePrograms } from '../../scripts/harness/programs';
import { patternDigest, patternStream, startSink } from '../fixtures/byteStreams';
import { startSquid } from '../fixtures/squid';
import { spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { WSSH_CLI_LINUX, startWine, winPath } from '../fixtures/wine';

const SIZE = 2 * 1024 * 1024;

test('Windows Node: NTLM to squid with CORP\\alice; the kerberos module does not load there and one line says so', { timeout: 600_000 }, async (t) => {
  if (!requirePrograms(t, 'squid', 'openssl')) return;
  const win = await startWine(t);
  if (!win) return;
  const dir = tempDir(t, 'wssh-e2e-proxyauth-win-');
  const sink = await startSink();
  t.after(() => sink.close());
  const server = await spawnWsshServer(writeHosts(dir, `sink.lan: "127.0.0.1:${sink.port}"\n`));
  t.after(() => server.stop());
  // Negotiate is offered but never reached: its helper starts only on use, so no realm is needed.
  const squid = await startSquid({ schemes: ['negotiate', 'ntlm'], kerberos: { keytab: path.join(dir, 'unused.keytab'), env: {}, realm: 'WSSH.TEST' } });
  t.after(() => squid.stop());
  const input = path.join(dir, 'upload.bin');
  await pipeline(patternStream(SIZE, 'win-ntlm'), fs.createWriteStream(input));

  const received = sink.next();
  const r = await win.runNode(
    [winPath(WSSH_CLI_LINUX), 'client', `ws://127.0.0.1:${server.port}/ssh/sink.lan`, '--proxy', `http://CORP%5Calice:Pa55word@localhost:${squid.port}`],
    { stdin: input, name: 'client-ntlm', timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, `${r.stderr}\n--- squid:\n${squid.log()}`);
  assert.match(
    r.stderr,
    /^wssh: Negotiate \(Kerberos\) for HTTP proxies is off: the kerberos module's native binary did not load: .*kerberos\.node.*; NTLM and Basic still work\r?\n$/,
  );
  assert.doesNotMatch(r.stderr, /Pa55word/);
  const got = await received;
  assert.deepEqual(got, { bytes: SIZE, sha256: await patternDigest(SIZE, 'win-ntlm') });
  await waitFor(
    "the tunnel signed in by NTLM in squid's access log",
    () => squid.access().some((l) => l.result === 'TCP_TUNNEL/200' && l.user === 'CORP\\alice'),
    15_000,
    () => squid.log(),
  );
});
