// An https:// proxy (src/core/upstream/proxyTunnel.ts): TLS to the proxy with a
// certificate from a CA openssl makes for this run, checked against the
// trusted CAs, then the NTLM sign-in inside it, against the NTLM proxy of
// test/core/proxyTunnel.test.ts (test/fixtures/ntlmProxy.ts) speaking TLS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { requireProgram } from '../../../scripts/harness/programs';
import { runProgram } from '../../../scripts/harness/processes';
import { makeCertificates } from '../../../scripts/harness/tls';
import { startNtlmProxy } from '../../fixtures/ntlmProxy';
import { tempDir } from '../../fixtures/tmp';

test('an https:// proxy: TLS to the proxy, checked against the trusted CAs (NODE_EXTRA_CA_CERTS here), then the sign-in inside it', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const dir = tempDir(t, 'wssh-proxytunnel-tls-');
  const certs = await makeCertificates(dir);
  const stub = await startNtlmProxy({
    offer: ['NTLM'],
    password: 'pw',
    tls: { cert: fs.readFileSync(certs.serverCert), key: fs.readFileSync(certs.serverKey) },
  });
  try {
    // The trusted CAs are read at start-up: a process of its own, trusting the test CA.
    const script = `
      const { openProxyTunnel } = require(${JSON.stringify(require.resolve('../../../src/core/upstream/proxyTunnel'))});
      const { parseProxyUrl } = require(${JSON.stringify(require.resolve('../../../src/core/upstream/upstreamProxy'))});
      openProxyTunnel(parseProxyUrl(process.argv[1]), { host: 'gw.example.com', port: 443 }).then(
        (socket) => socket.once('data', (d) => { console.log(String(d)); socket.destroy(); }).resume(),
        (err) => { console.log(err.name + ': ' + err.message); });`;
    const run = (url: string, ca: string) =>
      runProgram(process.execPath, ['-e', script, url], { env: { ...process.env, NODE_EXTRA_CA_CERTS: ca, KRB5CCNAME: 'FILE:/nonexistent/x' } });
    const ok = await run(`https://CORP%5Calice:pw@localhost:${stub.port}`, certs.caCert);
    assert.equal(ok.stdout.toString().trim(), 'hello from the far side', ok.stderr);
    const untrusted = await run(`https://CORP%5Calice:pw@localhost:${stub.port}`, path.join(dir, 'none.pem'));
    assert.match(
      untrusted.stdout.toString(),
      /^ProxyUnreachable: (unable to verify the first certificate|self[- ]signed certificate in certificate chain|unable to get local issuer certificate)/,
    );
  } finally {
    await stub.close();
  }
});
