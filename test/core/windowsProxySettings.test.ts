// The Windows user's proxy settings: the values in what `reg.exe query` prints
// (as captured from wine's reg.exe, CRLF and all; the parser itself:
// windowsRegistry.test.ts), the bypass list (ProxyOverride with <local> and
// wildcards) and the manual proxy in its plain and per-scheme forms. (On Windows Node for real: test/e2e/windowsProxy.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEndpoint } from '../../src/shared/endpoint';
import { INTERNET_SETTINGS_KEY, bypassesProxy, internetSettingsFrom, manualProxyRoutes } from '../../src/core/upstream/windowsProxySettings';
import { keyValues } from '../../src/core/windowsRegistry';

const REG_OUTPUT = [
  '',
  'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings',
  '    ProxyEnable    REG_DWORD    0x1',
  '    ProxyOverride    REG_SZ    <local>;*.corp',
  '    ProxyServer    REG_SZ    http=127.0.0.1:3128;socks=s:1',
  '    User Agent    REG_SZ    Mozilla/4.0 (compatible; MSIE 8.0; Win32)',
  '    AutoConfigURL    REG_SZ',
  '',
  'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\ZoneMap',
  '',
].join('\r\n');

const wss = parseEndpoint('wss://gw.example.com/ssh');
const ws = parseEndpoint('ws://gw.example.com:8080/ssh');

test("the Internet Settings among a key's values: DWORDs, names in any case, empty values, other values and subkeys left", () => {
  const settings = (text: string) => internetSettingsFrom(keyValues(text, INTERNET_SETTINGS_KEY));
  assert.deepEqual(settings(REG_OUTPUT), {
    proxyEnable: true,
    proxyServer: 'http=127.0.0.1:3128;socks=s:1',
    proxyOverride: '<local>;*.corp',
    autoConfigUrl: undefined,
  });
  assert.deepEqual(settings(''), { proxyEnable: false, proxyServer: undefined, proxyOverride: undefined, autoConfigUrl: undefined });
  const key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
  assert.equal(settings(`${key}\r\n    ProxyEnable    REG_DWORD    0x0\r\n    ProxyServer    REG_SZ    p:1\r\n`).proxyEnable, false);
  assert.equal(settings(`${key}\r\n    proxyenable    REG_SZ    1\r\n`).proxyEnable, true, 'a name in another case; a string "1"');
  assert.deepEqual(settings(`${key}\r\n    PROXYSERVER    REG_SZ     proxy.corp:8080 \r\n    AutoConfigURL    REG_SZ    \r\n`), {
    proxyEnable: false,
    proxyServer: 'proxy.corp:8080',
    proxyOverride: undefined,
    autoConfigUrl: undefined,
  });
});

test('ProxyOverride: <local>, wildcards, ports, schemes, case', () => {
  assert.equal(bypassesProxy('<local>', 'intranet', 443), true);
  assert.equal(bypassesProxy('<local>', 'gw.example.com', 443), false);
  assert.equal(bypassesProxy('<local>', '127.0.0.1', 443), false, '<local> is about dotless names, not addresses');
  assert.equal(bypassesProxy('*.corp.example.com', 'gw.corp.example.com', 443), true);
  assert.equal(bypassesProxy('*.corp.example.com', 'corp.example.com', 443), false);
  assert.equal(bypassesProxy('10.*', '10.1.2.3', 443), true);
  assert.equal(bypassesProxy('10.*', '110.1.2.3', 443), false);
  assert.equal(bypassesProxy('GW.Example.COM', 'gw.example.com', 443), true);
  assert.equal(bypassesProxy('gw.example.com:8443', 'gw.example.com', 443), false);
  assert.equal(bypassesProxy('gw.example.com:8443', 'gw.example.com', 8443), true);
  assert.equal(bypassesProxy('https://gw.example.com', 'gw.example.com', 443), true);
  assert.equal(bypassesProxy('a.test; *.b.test ;<local>', 'x.b.test', 443), true);
  assert.equal(bypassesProxy('[::1]:443', '::1', 443), true);
  assert.equal(bypassesProxy('gw.example.com', 'gw.example.com.evil.test', 443), false);
  assert.equal(bypassesProxy(undefined, 'x', 1), false);
});

test('ProxyOverride: an entry of many wildcards against a long host name is matched in linear time (found by fuzzing)', () => {
  const started = performance.now();
  assert.equal(bypassesProxy('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(250), 443), false);
  assert.equal(bypassesProxy('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(249) + 'b', 443), true);
  assert.ok(performance.now() - started < 200, 'a RegExp of .* took minutes here');
  assert.equal(bypassesProxy('a*b*c', 'axxbyy', 443), false);
  assert.equal(bypassesProxy('a.b', 'axb', 443), false, 'a dot is a dot, not any character');
});

test('the manual proxy: plain host:port for every scheme, per-scheme entries, off, bypassed', () => {
  assert.deepEqual(manualProxyRoutes({ proxyEnable: true, proxyServer: 'proxy.corp:8080' }, wss), ['http://proxy.corp:8080']);
  assert.deepEqual(manualProxyRoutes({ proxyEnable: true, proxyServer: 'proxy.corp:8080' }, ws), ['http://proxy.corp:8080']);
  assert.deepEqual(manualProxyRoutes({ proxyEnable: true, proxyServer: 'proxy.corp' }, wss), ['http://proxy.corp']);
  const perScheme = { proxyEnable: true, proxyServer: 'http=a.corp:3128;https=b.corp:3129;ftp=f:21' };
  assert.deepEqual(manualProxyRoutes(perScheme, wss), ['http://b.corp:3129'], 'wss:// is an https URL to the proxy, spoken to in plain HTTP');
  assert.deepEqual(manualProxyRoutes(perScheme, ws), ['http://a.corp:3128']);
  assert.deepEqual(manualProxyRoutes({ proxyEnable: true, proxyServer: 'http=a.corp:3128' }, wss), [false], 'no https= entry: direct, as WinINet');
  assert.deepEqual(manualProxyRoutes({ proxyEnable: true, proxyServer: 'https=http://b.corp:3129' }, wss), ['http://b.corp:3129']);
  assert.deepEqual(manualProxyRoutes({ proxyEnable: false, proxyServer: 'proxy.corp:8080' }, wss), [false]);
  assert.deepEqual(manualProxyRoutes({ proxyEnable: true }, wss), [false]);
  assert.deepEqual(manualProxyRoutes({ proxyEnable: true, proxyServer: 'proxy.corp:8080', proxyOverride: '*.example.com' }, wss), [false]);
  assert.deepEqual(
    manualProxyRoutes({ proxyEnable: true, proxyServer: 'proxy.corp:8080', proxyOverride: 'gw.example.com:443' }, ws),
    ['http://proxy.corp:8080'],
    'ws:// is on port 8080',
  );
  assert.throws(
    () => manualProxyRoutes({ proxyEnable: true, proxyServer: 'http=a:1;socks=s.corp:1080' }, wss),
    /^ProxyConfigError: the Windows proxy setting ProxyServer "http=a:1;socks=s.corp:1080" sends https through SOCKS only: WSSH reaches its endpoint through HTTP proxies/,
  );
  assert.throws(
    () => manualProxyRoutes({ proxyEnable: true, proxyServer: 'proxy:99999' }, wss),
    /ProxyServer "proxy:99999": "proxy:99999" is not a proxy's host:port/,
  );
});
