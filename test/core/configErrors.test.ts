// Core's configuration errors carry the setting at fault and a hint, and say
// what is wrong without naming a flag of the CLI or a field of the app: the
// system store that cannot be read (SSL_CERT_FILE pointing at nothing) or is
// empty, on its own and through a dial; a bad pin, server name or "pin only";
// a proxy URL typed by the user and one from the environment, the Windows
// settings or a PAC answer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/core/tunnel/configErrors';
import { SystemCertificatesError, systemCertificates } from '../../src/core/dial/trust/systemCertificates';
import { TrustError, checkTrustOptions, parsePin } from '../../src/core/dial/trust/trust';
import { ProxyConfigError, parseProxyUrl, resolveProxy } from '../../src/core/upstream/upstreamProxy';
import { parsePacAnswer } from '../../src/core/upstream/routes';
import { manualProxyRoutes } from '../../src/core/upstream/windowsProxySettings';
import { dial } from '../../src/core/dial/dialer';
import { TunnelError } from '../../src/core/tunnel/tunnelError';
import { parseEndpoint } from '../../src/shared/endpoint';
import { parseTarget } from '../../src/shared/target';
import { tempDir } from '../fixtures/tmp';

/** A flag of the CLI, or a word of the app's editor: neither belongs in core's message. */
const FRONT_END_WORDS = /--[a-z]|NODE_EXTRA_CA_CERTS|WSSH_PFX_PASSPHRASE|Advanced|CA file|the app\b/;

function caught(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('no error');
}

test("the system store: unreadable, then empty; said without a flag, the remedy a hint (also through a dial's refusal)", async (t) => {
  const dir = tempDir(t);
  const emptyDir = path.join(dir, 'certs');
  fs.mkdirSync(emptyDir);
  const saved = { file: process.env.SSL_CERT_FILE, dir: process.env.SSL_CERT_DIR };
  t.after(() => {
    for (const [name, value] of [
      ['SSL_CERT_FILE', saved.file],
      ['SSL_CERT_DIR', saved.dir],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  // Node 20 reads the store with system-ca, which honours these on Linux; newer Node reads it itself.
  if (process.platform !== 'linux' || process.versions.node.split('.').map(Number)[0] >= 22) {
    t.skip('needs Node 20 on Linux, where SSL_CERT_FILE and SSL_CERT_DIR decide the system store');
    return;
  }
  process.env.SSL_CERT_DIR = emptyDir;

  process.env.SSL_CERT_FILE = path.join(dir, 'none.pem');
  const unreadable = await systemCertificates().then(
    () => assert.fail('read'),
    (err: unknown) => err,
  );
  assert.ok(unreadable instanceof SystemCertificatesError);
  assert.deepEqual(unreadable.problem, { field: 'systemCa', hint: 'add-ca-or-newer-node' });
  assert.match(unreadable.message, /^cannot read the operating system's certificate store \(.*ENOENT.*\) on Node v20\.\d+\.\d+$/);

  const emptyFile = path.join(dir, 'empty.pem');
  fs.writeFileSync(emptyFile, '');
  process.env.SSL_CERT_FILE = emptyFile;
  const empty = await systemCertificates().then(
    () => assert.fail('read'),
    (err: unknown) => err,
  );
  assert.ok(empty instanceof SystemCertificatesError);
  assert.deepEqual(empty.problem, { field: 'systemCa', hint: 'add-ca' });
  assert.equal(empty.message, "the operating system's certificate store is empty");

  // A dial that asks for the store: refused as trust-config, the setting carried on.
  const refused = await dial(parseEndpoint('wss://127.0.0.1:9/ssh'), parseTarget('db1.lan'), { systemCa: true }).then(
    () => assert.fail('dialled'),
    (err: unknown) => err,
  );
  assert.ok(refused instanceof TunnelError);
  assert.equal(refused.refusal, 'trust-config');
  assert.equal(refused.code, 'TRUST_CONFIG');
  assert.deepEqual(refused.setting, { field: 'systemCa', hint: 'add-ca' });
  assert.equal(refused.message, "the operating system's certificate store is empty");
});

test("trust settings: the field, the hint, and what is wrong without the setting's name", () => {
  const pin = caught(() => parsePin('AB:CD'));
  assert.ok(pin instanceof TrustError);
  assert.deepEqual([pin.field, pin.hint, pin.subject], ['pin', 'fix-value', 'pin']);
  assert.match(pin.detail, /^"AB:CD": expected sha256\/BASE64/);
  assert.equal(pin.message, `pin ${pin.detail}`);

  const servername = caught(() => checkTrustOptions({ servername: '10.0.0.1' }));
  assert.deepEqual([servername.field, servername.hint], ['servername', 'fix-value']);
  assert.match(servername.detail, /^"10\.0\.0\.1": expected a DNS name/);

  const pinOnly = caught(() => checkTrustOptions({ pinOnly: true }));
  assert.deepEqual(pinOnly.problem, { field: 'pinOnly', hint: 'add-pin' });
  for (const err of [pin, servername, pinOnly]) assert.doesNotMatch(err.message, FRONT_END_WORDS);
});

test("proxy settings: the user's own value is to be fixed; one from the environment, Windows or a PAC answer may be replaced", () => {
  const wss = parseEndpoint('wss://gw.example.com/ssh');
  const typed = caught(() => parseProxyUrl('socks5://p:1080'));
  assert.ok(typed instanceof ProxyConfigError);
  assert.deepEqual([typed.field, typed.hint, typed.subject], ['proxy', 'fix-value', 'proxy']);
  assert.equal(typed.detail, '"socks5://p:1080": only HTTP proxies (http:// or https://) can reach the endpoint, not socks5://');

  const fromEnvironment = caught(() => resolveProxy(wss, undefined, { HTTPS_PROXY: 'socks5://p:1080' }));
  assert.deepEqual([fromEnvironment.hint, fromEnvironment.subject], ['choose-proxy', 'HTTPS_PROXY']);
  const fromPac = caught(() => parsePacAnswer('SOCKS5 s:1080'));
  assert.deepEqual(fromPac.problem, { field: 'proxy', hint: 'choose-proxy' });
  const fromWindows = caught(() => manualProxyRoutes({ proxyEnable: true, proxyServer: 'socks=s:1080' }, wss));
  assert.deepEqual(fromWindows.problem, { field: 'proxy', hint: 'choose-proxy' });
  const badHostPort = caught(() => manualProxyRoutes({ proxyEnable: true, proxyServer: 'proxy:99999' }, wss));
  assert.equal(badHostPort.message, 'the Windows proxy setting ProxyServer "proxy:99999": "proxy:99999" is not a proxy\'s host:port');
  for (const err of [typed, fromEnvironment, fromPac, fromWindows, badHostPort]) assert.doesNotMatch(err.message, FRONT_END_WORDS);
});
