// The fleet drills of issue #22 with small counts (the bench's --fleet part
// runs them with 600 tunnels): three `wssh server` replicas behind nginx's
// shipped upstream (a hash on the session key), tunnels through two
// `wssh connect` processes, each an echo of its own pattern checked byte for
// byte. nginx reloaded and restarted: every tunnel resumes. A rolling restart
// (SIGTERM, a 4 s drain, the same port again): /readyz 503, new tunnels land
// only on ready replicas, half of a draining replica's tunnels finish
// byte-exact, the rest end with the drain. One replica killed: its tunnels
// end at once, "the session is lost", the others carry on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePrograms } from '../../scripts/harness/programs';
import { runFleet } from '../../scripts/bench/fleet';
import { tempDir } from '../fixtures/tmp';

test('three replicas behind nginx: nginx reload and restart, a rolling restart, a replica killed', async (t) => {
  if (!requirePrograms(t, 'nginx')) return;
  const dir = tempDir(t, 'wssh-e2e-fleet-');
  const r = await runFleet({ tunnels: 30, connects: 2, drainSec: 4, tickBytes: 512, slack: 2, progress: (line) => t.diagnostic(line) }, dir);
  t.diagnostic(JSON.stringify({ ...r, problems: r.problems.length }));
  assert.deepEqual(r.problems.slice(0, 5), [], `every drill held (${r.problems.length} problems)\n${r.detail}`);
  assert.equal(
    r.perReplica.reduce((a, b) => a + b, 0),
    30,
  );
  assert.ok(r.perReplica.filter((n) => n > 0).length >= 2, `the session keys spread the tunnels: ${r.perReplica.join(', ')}`);
  // Every tunnel the reload and the restart cut came back, none lost there.
  assert.equal(r.cutByNginx, 60);
  assert.ok(r.resumed >= r.cutByNginx);
  assert.ok(r.openedDuringRoll > 0, 'tunnels opened during the rolling restart');
  assert.equal(r.landedOnDraining, 0, 'none on a replica that was not ready');
  assert.ok(r.finishedInDrain > 0 && r.endedByDrain > 0, `finished in a drain ${r.finishedInDrain}, ended by one ${r.endedByDrain}`);
  assert.ok(r.killed > 0, 'the killed replica held tunnels');
  assert.equal(r.killedEnded, r.killed, 'every tunnel of the killed replica ended');
  assert.match(r.killMessage, /the session is lost: the session could not be resumed/);
  // "At once": the resume reaches another replica, which refuses it; no timeout is waited out.
  assert.ok(r.killedEndMaxSec < 10, `the killed replica's tunnels ended within ${r.killedEndMaxSec.toFixed(1)} s`);
  assert.ok(r.finishedAtEnd > 0);
});
