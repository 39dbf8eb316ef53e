// Core's configuration errors as the built `wssh` prints them: the flag at
// fault, what is wrong, and what to type, never the tray app's fields. The
// system store that cannot be read or is empty (`--system-ca`, at start and
// at a dial), a gateway that wants a client certificate, a PAC answer with
// only SOCKS, an HTTPS_PROXY that is not an HTTP proxy, a --proxy typed wrong.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cleanEnv, runWssh } from '../../fixtures/wssh';
import { startCertificateRequiringServer } from '../../../scripts/harness/tls';
import { requireProgram } from '../../../scripts/harness/programs';
import { tempDir } from '../../fixtures/tmp';

/** Node 20 on Linux reads the system store with system-ca, which honours SSL_CERT_FILE and SSL_CERT_DIR. */
const storeFromEnvironment = process.platform === 'linux' && Number(process.versions.node.split('.')[0]) < 22;

test('the system store that cannot be read or is empty: --system-ca is named, and --ca FILE is the way', async (t) => {
  if (!storeFromEnvironment) return t.skip('needs Node 20 on Linux, where SSL_CERT_FILE and SSL_CERT_DIR decide the system store');
  const dir = tempDir(t);
  const emptyDir = path.join(dir, 'certs');
  fs.mkdirSync(emptyDir);
  const emptyFile = path.join(dir, 'empty.pem');
  fs.writeFileSync(emptyFile, '');

  // connect reads the store at start.
  const unreadable = await runWssh(['connect', 'wss://127.0.0.1:9/ssh', '--system-ca', '--listen', '127.0.0.1:0'], {
    env: cleanEnv({ SSL_CERT_FILE: path.join(dir, 'none.pem'), SSL_CERT_DIR: emptyDir }),
  });
  assert.equal(unreadable.code, 1, unreadable.stderr);
  assert.match(
    unreadable.stderr,
    /^wssh: --system-ca: cannot read the operating system's certificate store \(.*\) on Node v20[.\d]+: use Node 22\.15 or newer, /,
  );
  assert.match(unreadable.stderr, /, or give the CA with --ca FILE or in NODE_EXTRA_CA_CERTS \(or, without --ca, start Node with --use-openssl-ca\)\n$/);

  // client reads it for the dial: the refusal carries the setting to the CLI.
  const empty = await runWssh(['client', 'wss://127.0.0.1:9/ssh/db1.lan', '--system-ca'], {
    env: cleanEnv({ SSL_CERT_FILE: emptyFile, SSL_CERT_DIR: emptyDir }),
  });
  assert.equal(empty.code, 1, empty.stderr);
  assert.equal(empty.stderr, "wssh: --system-ca: the operating system's certificate store is empty: give the CA with --ca FILE\n");
});

test('a gateway that wants a client certificate: the flags that give one, and nothing of the app', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const gateway = await startCertificateRequiringServer(tempDir(t));
  t.after(() => gateway.close());
  const certs = gateway.certs;
  const endpoint = `wss://localhost:${gateway.port}/ssh`;
  const r = await runWssh(['client', `${endpoint}/db1.lan`, '--ca', certs.caCert], { env: cleanEnv() });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr,
    `wssh: TLS: ${endpoint} requires a client certificate and none was given (certificate required): ` +
      'give the endpoint a client certificate the gateway accepts (--cert FILE --key FILE, or --pfx FILE)\n',
  );
});

test('a proxy setting from elsewhere that cannot be used: the flags that replace it; a --proxy typed wrong: the flag, then why', async (t) => {
  const pac = path.join(tempDir(t), 'socks.pac');
  fs.writeFileSync(pac, 'function FindProxyForURL(url, host) { return "SOCKS5 127.0.0.1:1080"; }\n');
  const viaPac = await runWssh(['client', 'wss://gw.example.com/ssh/db1.lan', '--pac', pac], { env: cleanEnv() });
  assert.equal(viaPac.code, 1, viaPac.stderr);
  assert.match(viaPac.stderr, /^wssh: the PAC file .*socks\.pac's answer "SOCKS5 127\.0\.0\.1:1080" has no HTTP proxy and no DIRECT: /);
  assert.match(viaPac.stderr, /: fix that setting, or use --proxy URL or --no-proxy instead\n$/);

  const fromEnvironment = await runWssh(['client', 'wss://gw.example.com/ssh/db1.lan'], { env: cleanEnv({ HTTPS_PROXY: 'socks5://127.0.0.1:1080' }) });
  assert.equal(fromEnvironment.code, 2, fromEnvironment.stderr);
  assert.equal(
    fromEnvironment.stderr,
    'wssh: HTTPS_PROXY "socks5://127.0.0.1:1080": only HTTP proxies (http:// or https://) can reach the endpoint, not socks5://: ' +
      'fix that setting, or use --proxy URL or --no-proxy instead\n',
  );

  const typed = await runWssh(['client', 'wss://gw.example.com/ssh/db1.lan', '--proxy', 'socks5://127.0.0.1:1080'], { env: cleanEnv() });
  assert.equal(typed.code, 2, typed.stderr);
  assert.equal(typed.stderr, 'wssh: --proxy "socks5://127.0.0.1:1080": only HTTP proxies (http:// or https://) can reach the endpoint, not socks5://\n');
});
