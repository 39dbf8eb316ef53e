// Core's configuration errors as the tray app says them, with real objects
// (settings on conf, the tunnel controller, a CONNECT through its proxy): the
// remedy names the endpoint editor's fields, "Fix it in" points at one, and
// no flag of the CLI appears. The system store that is empty or cannot be
// read (SSL_CERT_FILE pointing at an empty file or at nothing), in a tunnel
// and in "Test"; a PKCS#12 file without its passphrase; a gateway that wants
// a client certificate; a system proxy that offers only SOCKS.

import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseEndpoint } from '../../../src/shared/endpoint';
import type { EndpointInput } from '../../../src/shared/ipc';
import { LogBook } from '../../../src/main/window/logBook';
import { TunnelController } from '../../../src/main/tunnel/tunnelController';
import { settingsControllerOptions } from '../../../src/main/appStartup';
import { testEndpoint } from '../../../src/main/tunnel/endpointCheck';
import { advancedProblems } from '../../../src/main/settings/endpointOptions';
import type { SystemProxyAnswer } from '../../../src/core/dial/endpointPlan';
import { openTestSettings, testCipher } from '../../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../../fixtures/tunnel';
import { freePort } from '../../../scripts/harness/ports';
import { makeClientCertificate, startCertificateRequiringServer } from '../../../scripts/harness/tls';
import { requireProgram } from '../../../scripts/harness/programs';
import { tempDir } from '../../fixtures/tmp';

/** The CLI's words: its flags and the variables it reads. */
const CLI_WORDS = /--[a-z]|WSSH_PFX_PASSPHRASE|NODE_EXTRA_CA_CERTS|type it when asked|wssh:/;

/** Node 20 on Linux reads the system store with system-ca, which honours SSL_CERT_FILE and SSL_CERT_DIR. */
const storeFromEnvironment = process.platform === 'linux' && Number(process.versions.node.split('.')[0]) < 22;

/** The app on fresh settings with one endpoint, "Corp", selected; the notifications it raises. */
async function app(t: TestContext, endpoint: Omit<EndpointInput, 'name' | 'user' | 'keepaliveSec'>, resolveSystemProxy?: SystemProxyAnswer) {
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const saved = settings.saveEndpoint({ name: 'Corp', user: '', keepaliveSec: 0, ...endpoint });
  assert.ok(saved.ok, JSON.stringify(saved));
  settings.selectEndpoint(saved.value.id);
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  const controller = new TunnelController({ ...settingsControllerOptions(settings, new LogBook()), drainMs: 0, resolveSystemProxy });
  const problems: string[] = [];
  controller.on('problem', (title, text) => problems.push(`${title}: ${text}`));
  t.after(() => controller.stop(0));
  return { controller, problems };
}

/** A CONNECT through the app's proxy that the dial refuses; the error state it leaves. */
async function refusedTunnel(controller: TunnelController, reason: RegExp) {
  const reply = await connectThroughProxy(controller.state().listen.port, '127.0.0.1:22');
  reply.socket.destroy();
  assert.equal(reply.status, 502, reply.body);
  return waitFor(
    'the error state',
    () => {
      const state = controller.state();
      return state.status === 'error' && reason.test(state.reason ?? '') ? state : undefined;
    },
    10_000,
    () => JSON.stringify(controller.state()),
  );
}

test('the system store, empty or unreadable: give the CA as "CA file", fixed in the editor; no --ca, no Node flags', async (t) => {
  if (!storeFromEnvironment) return t.skip('needs Node 20 on Linux, where SSL_CERT_FILE and SSL_CERT_DIR decide the system store');
  const dir = tempDir(t);
  const emptyDir = path.join(dir, 'certs');
  fs.mkdirSync(emptyDir);
  const emptyFile = path.join(dir, 'empty.pem');
  fs.writeFileSync(emptyFile, '');
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
  process.env.SSL_CERT_DIR = emptyDir;
  process.env.SSL_CERT_FILE = emptyFile;

  const { controller, problems } = await app(t, { uri: 'wss://127.0.0.1:9/ssh', proxy: 'none', trust: { systemCa: true } });
  await controller.start();
  const empty = await refusedTunnel(controller, /store is empty/);
  assert.equal(
    empty.reason,
    '127.0.0.1: the operating system\'s certificate store is empty: give the CA certificate as "CA file" (or untick "Use Windows certificate store")',
  );
  assert.equal(empty.fix, 'Endpoints ▸ Corp ▸ Advanced ▸ CA file');
  assert.equal(problems.at(-1), `Tunnel failed: ${empty.reason}. Fix it in Endpoints ▸ Corp ▸ Advanced ▸ CA file.`);

  process.env.SSL_CERT_FILE = path.join(dir, 'none.pem');
  const unreadable = await refusedTunnel(controller, /cannot read/);
  assert.match(unreadable.reason!, /^127\.0\.0\.1: cannot read the operating system's certificate store \(.*\) on Node v[.\d]+: /);
  assert.match(unreadable.reason!, /: give the CA certificate as "CA file" instead, and untick "Use Windows certificate store"$/);
  assert.equal(unreadable.fix, 'Endpoints ▸ Corp ▸ Advanced ▸ CA file');
  for (const said of [...problems, empty.reason!, unreadable.reason!]) assert.doesNotMatch(said, CLI_WORDS);

  // The editor's "Test" says it the same way.
  const tested = await testEndpoint(parseEndpoint('wss://127.0.0.1:9/ssh'), 'db1.lan', { proxy: 'none', trust: { systemCa: true } });
  assert.equal(tested.ok, false);
  assert.match(tested.reason!, /: give the CA certificate as "CA file" instead, and untick "Use Windows certificate store"$/);
  assert.doesNotMatch(tested.reason!, CLI_WORDS);
});

test('a PKCS#12 file without its passphrase: the start says to give it as "PKCS#12 passphrase", not WSSH_PFX_PASSPHRASE', async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const cert = await makeClientCertificate(tempDir(t), 'alice', 'pfx-pw');
  const { controller, problems } = await app(t, { uri: 'wss://gw.example.com/ssh', proxy: 'none', trust: { clientPfx: cert.pfx } });
  const state = await controller.start();
  assert.equal(state.status, 'error');
  assert.equal(state.reason, `Corp: ${cert.pfx} is protected by a passphrase: give it as "PKCS#12 passphrase"`);
  assert.equal(state.fix, 'Endpoints ▸ Corp ▸ Advanced ▸ Client certificate');
  assert.equal(problems.at(-1), `Cannot start the tunnel: ${state.reason}. Fix it in Endpoints ▸ Corp ▸ Advanced ▸ Client certificate.`);
  assert.doesNotMatch(problems.at(-1)!, CLI_WORDS);
});

test("a gateway that wants a client certificate: the app's remedy and place, no --cert", async (t) => {
  if (!requireProgram(t, 'openssl')) return;
  const gateway = await startCertificateRequiringServer(tempDir(t));
  t.after(() => gateway.close());
  const certs = gateway.certs;
  const uri = `wss://localhost:${gateway.port}/ssh`;
  const { controller, problems } = await app(t, { uri, proxy: 'none', trust: { caFile: certs.caCert } });
  await controller.start();
  const state = await refusedTunnel(controller, /client certificate/);
  assert.equal(
    state.reason,
    `127.0.0.1: TLS: ${uri} requires a client certificate and none was given (certificate required): ` +
      'give the endpoint a client certificate the gateway accepts',
  );
  assert.equal(state.fix, 'Endpoints ▸ Corp ▸ Advanced ▸ Client certificate');
  assert.doesNotMatch(problems.at(-1)!, CLI_WORDS);
});

test('a system proxy that offers only SOCKS: choose "None" or "Custom URL" under "Proxy"; a custom URL typed wrong names no flag', async (t) => {
  const { controller, problems } = await app(t, { uri: 'ws://127.0.0.1:9/ssh', proxy: 'system' }, async () => 'SOCKS5 127.0.0.1:1080');
  await controller.start();
  const state = await refusedTunnel(controller, /SOCKS/);
  assert.equal(
    state.reason,
    '127.0.0.1: the system proxy setting "SOCKS5 127.0.0.1:1080" has no HTTP proxy and no DIRECT: WSSH cannot use SOCKS to reach its endpoint: ' +
      'fix that setting, or choose "None" or "Custom URL" under "Proxy"',
  );
  assert.equal(state.fix, 'Endpoints ▸ Corp ▸ Advanced ▸ Proxy');
  assert.doesNotMatch(problems.at(-1)!, CLI_WORDS);

  const typed = advancedProblems({ url: 'socks5://proxy.corp:1080' }, {}).proxyUrl;
  assert.match(typed!, /only HTTP proxies/);
  assert.doesNotMatch(typed!, CLI_WORDS);
});
