// Descriptor exhaustion (issue 10): a `wssh server` with a low descriptor
// limit, filled with tunnels. Further tunnels fail, and the server says so in
// one log line per burst and a counter, instead of dropping them silently.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnDaemon } from '../../scripts/harness/processes';
import { startEcho } from '../fixtures/byteStreams';
import { tempDir } from '../fixtures/tmp';
import { WSSH_CLI, writeHosts } from '../fixtures/wssh';
import { waitFor } from '../fixtures/tunnel';
import { attempt, rawRequest, type Attempt } from '../fixtures/upgradeClient';

test('out of descriptors: one log line for the burst, counted in /metrics, and the server goes on', async (t) => {
  const echo = await startEcho();
  t.after(() => echo.close());
  const dir = tempDir(t);
  const hosts = writeHosts(dir, `"127.0.0.1:${echo.port}": true\n`);
  // Node needs about 20 descriptors of its own; each tunnel takes two.
  const daemon = spawnDaemon('wssh server (ulimit -n 64)', '/bin/sh', [
    '-c',
    `ulimit -n 64 && exec "${process.execPath}" "${WSSH_CLI}" server --listen 127.0.0.1:0 --hosts "${hosts}" --keepalive 0`,
  ]);
  t.after(() => daemon.stop());
  const port = Number((await waitFor('the server to listen', () => /listening on ws:\/\/[^\s]*:(\d+)\//.exec(daemon.output()), 10_000, daemon.output))[1]);

  const tunnels: Attempt[] = [];
  t.after(() => tunnels.forEach((a) => a.ws?.terminate()));
  let failures = 0;
  for (let i = 0; i < 80 && failures < 6; i++) {
    const r = await attempt(`ws://127.0.0.1:${port}/ssh/127.0.0.1%3A${echo.port}`);
    tunnels.push(r);
    if (!r.ws) failures++;
  }
  assert.ok(failures >= 1, 'the limit was never reached');
  await waitFor('the log line', () => /out of file descriptors \(EMFILE: the limit is \d+/.test(daemon.output()), 5000, daemon.output);
  tunnels.forEach((a) => a.ws?.terminate());
  // Once the tunnels are gone there are descriptors again for the metrics request.
  let metrics = '';
  await waitFor(
    'the metrics',
    () => {
      rawRequest(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').then(
        (m: string) => (metrics = m),
        () => {},
      );
      return metrics.includes('wssh_descriptor_exhaustion_total');
    },
    10_000,
  );
  assert.match(metrics, /wssh_descriptor_exhaustion_total [1-9]/);
  // The alarm's line (each refused tunnel also has its own "tunnel refused" line, as every refusal does).
  const lines = daemon
    .output()
    .split('\n')
    .filter((l) => /Z out of file descriptors/.test(l));
  assert.equal(lines.length, 1, lines.join('\n'));
});
