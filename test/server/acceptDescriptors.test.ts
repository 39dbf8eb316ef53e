// Running out of descriptors at accept() (issue 24, item 13). When accept()
// fails with EMFILE, libuv accepts the connection on a descriptor it keeps
// spare and closes it at once, without telling Node: 400 idle connections to
// a `wssh server` or `wssh connect` under `ulimit -n 128` were dropped with
// no line in the log. Each process must say it is out of descriptors, with
// the same alarm as for a failed connect, once per burst.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnDaemon, type Daemon } from '../../scripts/harness/processes';
import { tempDir } from '../fixtures/tmp';
import { WSSH_CLI, cleanEnv, writeHosts } from '../fixtures/wssh';
import { waitFor } from '../fixtures/tunnel';

const LIMIT = 128;
const CONNECTIONS = 400;

/** `wssh ARGS` under `ulimit -n LIMIT`; resolves with it and its port once it listens. */
async function underLimit(t: { after(fn: () => unknown): void }, name: string, args: string[], listening: RegExp): Promise<{ daemon: Daemon; port: number }> {
  const quoted = args.map((a) => `"${a}"`).join(' ');
  const daemon = spawnDaemon(`${name} (ulimit -n ${LIMIT})`, '/bin/sh', ['-c', `ulimit -n ${LIMIT} && exec "${process.execPath}" "${WSSH_CLI}" ${quoted}`], {
    env: cleanEnv(),
  });
  t.after(() => daemon.stop());
  const port = Number((await waitFor(`${name} to listen`, () => listening.exec(daemon.output()), 10_000, daemon.output))[1]);
  return { daemon, port };
}

/** Opens `count` idle connections (they send nothing); resolves once every one is connected, or closed by the other side. */
async function idleConnections(t: { after(fn: () => unknown): void }, port: number, count: number): Promise<{ dropped: () => number }> {
  const sockets: net.Socket[] = [];
  let dropped = 0;
  t.after(() => sockets.forEach((s) => s.destroy()));
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => resolve());
          sockets.push(s);
          s.on('error', () => resolve());
          s.on('close', () => {
            dropped++;
            resolve();
          });
        }),
    ),
  );
  return { dropped: () => dropped };
}

async function assertAlarm(daemon: Daemon, connections: { dropped: () => number }): Promise<void> {
  await waitFor(
    'connections to be dropped',
    () => connections.dropped() > 0,
    15_000,
    () => `${connections.dropped()} dropped\n${daemon.output()}`,
  );
  await waitFor('the alarm in the log', () => /out of file descriptors \(EMFILE: the limit is 128/.test(daemon.output()), 10_000, daemon.output);
  const alarms = daemon
    .output()
    .split('\n')
    .filter((l) => /out of file descriptors/.test(l));
  assert.equal(alarms.length, 1, `one line for the burst:\n${alarms.join('\n')}`);
  assert.match(alarms[0], /connections are being dropped \(accepting a connection failed/);
}

test(`wssh server: ${CONNECTIONS} idle connections under ulimit -n ${LIMIT} are dropped, and the log says why`, async (t) => {
  const hosts = writeHosts(tempDir(t), '');
  const { daemon, port } = await underLimit(
    t,
    'wssh server',
    ['server', '--listen', '127.0.0.1:0', '--hosts', hosts, '--keepalive', '0'],
    /listening on ws:\/\/[^\s]*:(\d+)\//,
  );
  await assertAlarm(daemon, await idleConnections(t, port, CONNECTIONS));
});

test(`wssh connect: ${CONNECTIONS} idle connections under ulimit -n ${LIMIT} are dropped, and the log says why`, async (t) => {
  const { daemon, port } = await underLimit(
    t,
    'wssh connect',
    ['connect', 'ws://127.0.0.1:9/ssh', '--listen', '127.0.0.1:0', '--keepalive', '0'],
    /HTTP CONNECT proxy on [^\s]*:(\d+) /,
  );
  await assertAlarm(daemon, await idleConnections(t, port, CONNECTIONS));
});
