// The refusal table: every row is a usable HTTP status, SOCKS5 reply and
// metric label, and the codes carry through the dialer's TunnelError and the
// tracker's `refused` event, so programs decide by code, never by text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { REFUSALS, type RefusalCode, type RefusalKind } from '../../src/core/tunnel/refusals';
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
  // The rule before codes existed: a 5xx other than a client that left, or 403 for credentials.
  for (const [code, kind] of rows) {
    const before = (kind.status >= 500 && code !== 'client-gone') || code === 'auth-required';
    assert.equal(kind.alert, before, code);
  }
});

test("a TunnelError's status is its code's; the detail code stays", () => {
  const err = new TunnelError('proxy-timeout', 'the HTTP proxy timed out', 'PROXY_504');
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
