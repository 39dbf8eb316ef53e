// Proxy-Authenticate as RFC 7235 has it (src/core/upstream/auth/challenges.ts):
// several headers, several challenges in one header, parameters with quoted
// commas, token68 values. And the Kerberos service name a proxy is asked
// for (negotiate.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findChallenge, parseChallenges } from '../../src/core/upstream/auth/challenges';
import { proxyService } from '../../src/core/upstream/auth/negotiate';

const schemes = (headers: string[]) => parseChallenges(headers).map((c) => c.scheme);

test('one challenge per header, as squid sends them', () => {
  assert.deepEqual(schemes(['Negotiate', 'NTLM', 'Basic realm="corp proxy"']), ['Negotiate', 'NTLM', 'Basic']);
  assert.deepEqual(parseChallenges(['Basic realm="corp proxy"'])[0].params, { realm: 'corp proxy' });
});

test('several challenges in one header, commas inside quotes kept', () => {
  const list = parseChallenges(['Basic realm="a, b", NTLM, Negotiate', 'Digest realm="x", qop="auth,auth-int", nonce="abc=", algorithm=MD5']);
  assert.deepEqual(
    list.map((c) => [c.scheme, c.token, c.params]),
    [
      ['Basic', undefined, { realm: 'a, b' }],
      ['NTLM', undefined, {}],
      ['Negotiate', undefined, {}],
      ['Digest', undefined, { realm: 'x', qop: 'auth,auth-int', nonce: 'abc=', algorithm: 'MD5' }],
    ],
  );
});

test('token68: an NTLM challenge and a Negotiate continuation, padding included', () => {
  const list = parseChallenges(['NTLM TlRMTVNTUAACAAAADAAMADgAAAA=', 'Negotiate oYGdMIGaoAMKAQGh==, Basic realm=x']);
  assert.equal(findChallenge(list, 'ntlm')?.token, 'TlRMTVNTUAACAAAADAAMADgAAAA=');
  assert.equal(findChallenge(list, 'NEGOTIATE')?.token, 'oYGdMIGaoAMKAQGh==');
  assert.deepEqual(findChallenge(list, 'basic')?.params, { realm: 'x' });
});

test('what cannot be read is skipped, not thrown', () => {
  assert.deepEqual(schemes(['', ' , ,', '"quoted" garbage']), []);
  assert.deepEqual(schemes(['NTLM, "broken', 'Basic']), ['NTLM', 'Basic']);
  assert.deepEqual(schemes(['Basic realm="unterminated']), ['Basic']);
});

test('the Kerberos service is named for the proxy host as written: HTTP@host for GSSAPI, the SPN HTTP/host for SSPI', () => {
  assert.equal(proxyService('proxy.corp.example', 'linux'), 'HTTP@proxy.corp.example');
  assert.equal(proxyService('proxy.corp.example', 'darwin'), 'HTTP@proxy.corp.example');
  assert.equal(proxyService('proxy.corp.example', 'win32'), 'HTTP/proxy.corp.example');
  assert.equal(proxyService('[::1]', 'linux'), 'HTTP@::1');
});
