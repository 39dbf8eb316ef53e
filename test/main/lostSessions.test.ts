// The lost-session notification (issue #20): only for a tunnel that ended
// while broken, one for the sessions lost together, each target named once,
// the rest counted; nothing pending after a flush.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClosedTunnel } from '../../src/core/tunnel/tunnels';
import { LostSessions, lostNotice } from '../../src/main/tunnel/lostSessions';
import { waitFor } from '../fixtures/tunnel';

let nextId = 1;
function closed(target: string, lost: boolean, reason = 'not resumed within 300 s (WebSocket closed: 1006)'): ClosedTunnel {
  const now = Date.now();
  const tunnel: ClosedTunnel = {
    id: nextId++,
    target,
    via: 'wss://gw/ssh',
    client: '127.0.0.1:5000',
    openedAt: now - 1000,
    up: 1,
    down: 2,
    closedAt: now,
    durationMs: 1000,
    reason,
  };
  if (lost) tunnel.lost = true;
  return tunnel;
}

test('the words: one session, several, and more targets than are named', () => {
  assert.deepEqual(lostNotice([closed('db1.lan', true)]), [
    'SSH session lost',
    'The session to db1.lan ended while its tunnel was broken: not resumed within 300 s (WebSocket closed: 1006). Connect to it again.',
  ]);
  assert.deepEqual(lostNotice([closed('db1.lan', true), closed('db1.lan', true), closed('web:2222', true)]), [
    '3 SSH sessions lost',
    'The sessions to db1.lan, web:2222 ended while their tunnels were broken: not resumed within 300 s (WebSocket closed: 1006). Connect to them again.',
  ]);
  const many = ['a', 'b', 'c', 'd', 'e'].map((host) => closed(host, true));
  assert.match(lostNotice(many)[1], /^The sessions to a, b, c and 2 more ended while/);
});

test('a tunnel that closed normally is not notified; those lost within the wait make one notification', async () => {
  const shown: Array<[string, string]> = [];
  const lost = new LostSessions((title, text) => shown.push([title, text]), 50);
  lost.closed(closed('db1.lan', false, 'closed by the client'));
  lost.closed(closed('db1.lan', true));
  lost.closed(closed('db2.lan', true));
  await waitFor('the notification', () => shown.length > 0);
  assert.deepEqual(
    shown.map(([title]) => title),
    ['2 SSH sessions lost'],
  );
  // A later loss is a notification of its own.
  lost.closed(closed('db3.lan', true));
  lost.flush();
  assert.deepEqual(shown[1], lostNotice([closed('db3.lan', true)]));
  lost.flush();
  assert.equal(shown.length, 2, 'nothing pending after a flush');
});
