// The PuTTY settings and the .reg export: PuTTY's session-name escaping and
// the registry values PuTTY reads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRegFile, escapePuttySessionName, puttyProxySettings, puttySessionRegText, regFileName } from '../../src/main/savedSessions/puttyReg';

test('session names are escaped as PuTTY escapes registry keys', () => {
  assert.equal(escapePuttySessionName('db1 via WSSH'), 'db1%20via%20WSSH');
  assert.equal(escapePuttySessionName('a\\b*c?d%e'), 'a%5Cb%2Ac%3Fd%25e');
  assert.equal(escapePuttySessionName('.hidden.name'), '%2Ehidden.name', 'only a leading dot is escaped');
  assert.equal(escapePuttySessionName('tab\there'), 'tab%09here');
  assert.equal(escapePuttySessionName('Zürich'), 'Z%C3%BCrich', 'every byte of a non-ASCII character');
  assert.equal(escapePuttySessionName('user@db-1_(prod):22/x'), 'user@db-1_(prod):22/x', 'other printable ASCII stays');
  assert.equal(escapePuttySessionName('~del\x7f'), '~del%7F');
});

test('the .reg file creates a session whose proxy is this app, localhost included', () => {
  const text = puttySessionRegText({
    sessionName: 'db1 (WSSH)',
    target: { host: 'db1.lan', port: 2222 },
    listen: { host: '127.0.0.1', port: 3122 },
  });
  assert.equal(
    text,
    [
      'Windows Registry Editor Version 5.00',
      '',
      '[HKEY_CURRENT_USER\\Software\\SimonTatham\\PuTTY\\Sessions\\db1%20(WSSH)]',
      '"HostName"="db1.lan"',
      '"PortNumber"=dword:000008ae',
      '"Protocol"="ssh"',
      '"ProxyMethod"=dword:00000003',
      '"ProxyHost"="127.0.0.1"',
      '"ProxyPort"=dword:00000c32',
      '"ProxyLocalhost"=dword:00000001',
      '',
    ].join('\r\n'),
  );
  const bytes = encodeRegFile(text);
  assert.deepEqual([...bytes.subarray(0, 4)], [0xff, 0xfe, 0x57, 0x00], 'UTF-16LE with a BOM, as regedit writes');
  assert.equal(bytes.subarray(2).toString('utf16le'), text);
});

test('IPv6 targets and a wildcard listen address', () => {
  const text = puttySessionRegText({ sessionName: 'v6', target: { host: '::1', port: 22 }, listen: { host: '0.0.0.0', port: 4000 } });
  assert.match(text, /"HostName"="::1"\r\n"PortNumber"=dword:00000016/);
  assert.match(text, /"ProxyHost"="127\.0\.0\.1"\r\n"ProxyPort"=dword:00000fa0/);
  assert.throws(() => puttySessionRegText({ sessionName: 'x', target: { host: 'a\nb', port: 22 }, listen: { host: '127.0.0.1', port: 1 } }));
});

test('the PuTTY settings as the user copies them', () => {
  const s = puttyProxySettings({ host: '127.0.0.1', port: 3122 });
  assert.equal(s.proxyHost, '127.0.0.1');
  assert.equal(s.proxyPort, 3122);
  assert.match(s.text, /Proxy type: HTTP CONNECT\n {2}Proxy hostname: 127\.0\.0\.1\n {2}Port: 3122\n {2}Consider proxying local host connections: Yes/);
  assert.equal(regFileName('db1: prod/1'), 'PuTTY session db1_ prod_1.reg');
});
