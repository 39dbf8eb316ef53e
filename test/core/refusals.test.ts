// The refusal table: every row is a usable HTTP status, SOCKS5 reply and
// metric label, and the codes carry through the dialer's TunnelError and the
// tracker's `refused` event, so programs decide by code, never by text. Every
// refusal error (TunnelError, SocksError, the server's) is a RefusalError of
// one shape: refusal, message, options.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { REFUSALS, REFUSAL_HEADER, RefusalError, isRefusalCode, type RefusalCode, type RefusalKind } from '../../src/core/tunnel/refusals';
import { SocksError } from '../../src/core/localProxy/socksHandshake';
import { TunnelError } from '../../src/core/tunnel/tunnelError';
import { TunnelTracker, type RefusedTunnel } from '../../src/core/tunnel/tunnels';
import { Socks5Reply } from '../../src/core/tunnel/socksReplies';

const rows = Object.entries(REFUSALS) as Array<[RefusalCode, RefusalKind]>;

test('every refusal has an HTTP status with a reason phrase, a SOCKS5 refusal, a label and a message', () => {
  const labels = new Set<string>();
  const socksRefusals = new Set<number>(Object.values(Socks5Reply).filter((c) => c !== Socks5Reply.succeeded));
  for (const [code, kind] of rows) {
    assert.match(code, /^[a-z]+(-[a-z]+)*$/, code);
    assert.ok(kind.status >= 400 && kind.status < 600 && STATUS_CODES[kind.status], `${code}: ${kind.status}`);
    assert.ok(socksRefusals.has(kind.socks5), `${code}: SOCKS5 ${kind.socks5}`);
    assert.match(kind.metric, /^[a-z]+(-[a-z]+)*$/, `${code}: label ${kind.metric}`);
    assert.ok(!labels.has(kind.metric), `${code}: label ${kind.metric} used twice`);
    labels.add(kind.metric);
    assert.ok(kind.message.length > 0 && !kind.message.includes('\n'), code);
  }
});

test('the tray app alerts on what needs the user: the way to the endpoint or the target, and missing credentials', () => {
  // The rule before codes existed: a 5xx other than a client that left, or 403 for credentials; and the
  // server's 429s, which reached the tray app as a 502 until the server named them (X-WSSH-Refusal).
  const serverLimits = ['client-limit', 'login-backlog'];
  for (const [code, kind] of rows) {
    const before = (kind.status >= 500 && code !== 'client-gone') || code === 'auth-required' || serverLimits.includes(code);
    assert.equal(kind.alert, before, code);
  }
});

test("a TunnelError's status is its code's; the detail code stays", () => {
  const err = new TunnelError('proxy-timeout', 'the HTTP proxy timed out', { code: 'PROXY_504' });
  assert.equal(err.refusal, 'proxy-timeout');
  assert.equal(err.status, 504);
  assert.equal(err.code, 'PROXY_504');
  assert.equal(new TunnelError('auth-required', 'x').status, 403);
});

test("the tracker's refused event carries the code and its status", () => {
  const tracker = new TunnelTracker();
  const seen: RefusedTunnel[] = [];
  tracker.on('refused', (r) => seen.push(r));
  tracker.refuse({ target: 'db1.lan', client: '127.0.0.1', code: 'denied', reason: 'no rule allows db1.lan' });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].code, 'denied');
  assert.equal(seen[0].status, 403);
  assert.equal(seen[0].reason, 'no rule allows db1.lan');
});

test('every refusal error has one shape: a RefusalError with its code, status, SOCKS5 reply and extras', () => {
  const cause = new Error('underneath');
  const reply = Buffer.from([0x05, 0x02]);
  const errors: Array<[RefusalError, RefusalCode]> = [
    [new RefusalError('capacity', 'full', { detail: 'full: 1000 tunnels', cause }), 'capacity'],
    [new TunnelError('client-limit', 'too many', { code: 'TIMEOUT', cause }), 'client-limit'],
    [new SocksError('proxy-auth', 'wrong password', { reply, cause }), 'proxy-auth'],
  ];
  for (const [err, code] of errors) {
    assert.ok(err instanceof RefusalError && err instanceof Error, err.name);
    assert.equal(err.refusal, code, err.name);
    assert.equal(err.status, REFUSALS[code].status, err.name);
    assert.equal(err.socks5, REFUSALS[code].socks5, err.name);
    assert.equal(err.cause, cause, err.name);
    assert.ok(err.stack?.includes(err.message), err.name);
  }
  assert.equal(errors[0][0].detail, 'full: 1000 tunnels');
  assert.equal(errors[1][0].detail, 'too many', 'the detail is the message when none is given');
  assert.equal((errors[1][0] as TunnelError).code, 'TIMEOUT');
  assert.equal((errors[2][0] as SocksError).reply, reply);
  assert.equal(new SocksError('malformed', 'x').reply, undefined);
  assert.deepEqual([errors[0][0].name, errors[1][0].name, errors[2][0].name], ['RefusalError', 'TunnelError', 'SocksError']);
});

test('the refusal header names a code of the table; anything else is no code', () => {
  assert.equal(REFUSAL_HEADER, 'X-WSSH-Refusal');
  for (const [code, kind] of rows) {
    assert.ok(isRefusalCode(code), code);
    // The header carries the code; the metric label is the same word, so either reads alike.
    assert.equal(kind.metric, code, code);
  }
  for (const other of ['', 'toString', '__proto__', 'Capacity', undefined, 7]) assert.equal(isRefusalCode(other), false, String(other));
});
