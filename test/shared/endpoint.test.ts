// Endpoint URIs: every way one can be wrong has its own message, and the
// secret never reaches anything meant for display.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EndpointError,
  authorizationHeader,
  isLoopbackHost,
  parseEndpoint,
  parseTunnelUri,
  plainCredentialsWarning,
  tunnelUrl,
} from '../../src/shared/endpoint';

test('a plain endpoint', () => {
  const e = parseEndpoint('wss://gw.example.com/ssh');
  assert.equal(e.url, 'wss://gw.example.com/ssh');
  assert.equal(e.secure, true);
  assert.equal(e.credentials, undefined);
  assert.equal(e.display, 'wss://gw.example.com/ssh');
});

test('trailing slashes, an empty path, ports, IPv6 and upper-case schemes', () => {
  assert.equal(parseEndpoint('ws://gw/ssh/').url, 'ws://gw/ssh');
  assert.equal(parseEndpoint('ws://localhost:4567').url, 'ws://localhost:4567');
  assert.equal(parseEndpoint('WS://[::1]:4567/ssh').url, 'ws://[::1]:4567/ssh');
  assert.equal(parseEndpoint('  wss://gw:443/a/b  ').url, 'wss://gw/a/b');
});

test('userinfo becomes credentials and Basic auth, and never shows in url or display', () => {
  const e = parseEndpoint('wss://alice:s%40cret@gw.example.com/ssh');
  assert.deepEqual(e.credentials, { user: 'alice', secret: 's@cret' });
  assert.equal(e.url, 'wss://gw.example.com/ssh');
  assert.equal(e.display, 'wss://alice:***@gw.example.com/ssh');
  assert.ok(!JSON.stringify({ url: e.url, display: e.display }).includes('cret'));
  assert.equal(authorizationHeader(e.credentials), 'Basic ' + Buffer.from('alice:s@cret').toString('base64'));
  assert.equal(authorizationHeader(undefined), undefined);
});

test('each way to be wrong has its own message', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['gw.example.com/ssh', /must start with ws:\/\/ or wss:\/\//],
    ['https://gw/ssh', /use wss:\/\/ instead of https:\/\//],
    ['http://gw/ssh', /use ws:\/\/ instead of http:\/\//],
    ['ftp://gw/ssh', /unsupported scheme "ftp:"/],
    ['wss:gw/ssh', /must be followed by \/\//],
    ['wss://', /no host/],
    ['wss:///ssh', /no host/],
    ['wss://gw:99999/ssh', /port "99999" is not a number from 1 to 65535/],
    ['wss://gw:abc/ssh', /port "abc"/],
    ['wss://g w/ssh', /spaces/],
    ['wss://gw/ssh?x=1', /query/],
    ['wss://gw/ssh#top', /fragment/],
    ['wss://:secret@gw/ssh', /without a user/],
    ['wss://a%zz:b@gw/ssh', /broken %-escape|not a valid host/],
    // Found by fuzzing: an "@" in the path made a URL this parser refused to read back.
    ['ws://@gw/ssh@x', /an "@" after the host/],
    ['wss://u:p@ss/w@gw/ssh', /an "@" after the host: if the user or secret holds "\/"/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseEndpoint(input),
      (err: Error) => err instanceof EndpointError && message.test(err.message),
      input,
    );
  }
});

test('tunnel URLs: bare host for port 22, host:port percent-encoded otherwise, IPv6 in brackets', () => {
  const e = parseEndpoint('wss://gw/ssh');
  assert.equal(tunnelUrl(e, { host: 'db1.lan', port: 22 }), 'wss://gw/ssh/db1.lan');
  assert.equal(tunnelUrl(e, { host: 'db1.lan', port: 2222 }), 'wss://gw/ssh/db1.lan%3A2222');
  assert.equal(tunnelUrl(e, { host: '::1', port: 2222 }), 'wss://gw/ssh/%5B%3A%3A1%5D%3A2222');
  assert.equal(tunnelUrl(e, { host: '::1', port: 22 }), 'wss://gw/ssh/%3A%3A1');
});

test('a full tunnel URI (wssh client) splits into endpoint and target', () => {
  const { endpoint, target } = parseTunnelUri('wss://bob:pw@gw/ssh/db1.lan');
  assert.equal(endpoint.url, 'wss://gw/ssh');
  assert.equal(endpoint.display, 'wss://bob:***@gw/ssh');
  assert.deepEqual(target, { host: 'db1.lan', port: 22 });
  assert.deepEqual(parseTunnelUri('ws://gw/db1.lan%3A2222').target, { host: 'db1.lan', port: 2222 });
  assert.throws(() => parseTunnelUri('wss://gw'), /names no target host/);
  assert.throws(() => parseTunnelUri('wss://gw/ssh/bad%20host'), /bad target in the URI/);
});

test('loopback: names and addresses of this machine however spelled; a name that only starts with "127." is not one', () => {
  const loopback = ['localhost', 'LOCALHOST', 'a.localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::FFFF:7f00:2'];
  for (const host of loopback) assert.equal(isLoopbackHost(host), true, host);
  const others = ['127.evil.example', '127.0.0.1.evil.example', '127.0.0.256', 'localhost.evil.example', '::ffff:127.evil', '::2', '::ffff:10.0.0.1', '::1%lo'];
  for (const host of others) assert.equal(isLoopbackHost(host), false, host);
  // The warning that hangs on it: a DNS name like 127.evil.example is another machine.
  const warning = plainCredentialsWarning(parseEndpoint('ws://a:b@127.evil.example/ssh'));
  assert.match(warning ?? '', /goes to 127\.evil\.example unencrypted/);
  assert.equal(plainCredentialsWarning(parseEndpoint('ws://a:b@[::ffff:127.0.0.1]/ssh')), undefined);
});
