// deploy/Containerfile built and run with podman, as an admin would: from
// the `npm pack` tarball, on a stand-in for the official Node image (no
// registry can be reached here: test/fixtures/containers.ts builds one from
// Debian's packages and this machine's Node). The image runs `wssh server`
// as user 1000 on a read-only root file system, with hosts.yml from a
// volume; it holds no compiler, no npm and no Electron; its health check
// passes; a tunnel goes through it; `podman stop` drains it (not ready at
// once, the open tunnel closed when --drain runs out, exit 0).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runChecked } from '../../scripts/harness/processes';
import { requirePrograms } from '../../scripts/harness/programs';
import { freePort } from '../../scripts/harness/ports';
import { Podman } from '../fixtures/containers';
import { npmEnv } from '../fixtures/npm';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { attempt, closed, echoOnce, probe } from '../fixtures/upgradeClient';

const REPO = path.resolve(__dirname, '..', '..', '..');

test('the Containerfile builds an image that runs wssh server unprivileged, read-only, healthy, and drains on stop', { timeout: 1_200_000 }, async (t) => {
  const programs = requirePrograms(t, 'podman', 'runc', 'debootstrap', 'npm', 'tar');
  if (!programs) return;
  // Undone last first (the echo container depends on the server's, both on
  // the image), and before the temp dir with podman's config goes: hooks run
  // in the order they were added.
  const undo: string[][] = [];
  t.after(async () => {
    for (const args of undo.reverse()) await podman.run(args);
  });
  const dir = tempDir(t, 'wssh-container-');
  const podman = new Podman(programs.podman, dir);
  const base = await podman.nodeBaseImage(programs.debootstrap);

  // The build context: the tarball of the built checkout (the tests run from dist) and the Containerfile.
  const context = path.join(dir, 'context');
  fs.mkdirSync(context);
  await runChecked('npm', ['pack', '--ignore-scripts', '--pack-destination', context], { cwd: REPO, env: npmEnv(), timeoutMs: 60_000 });
  fs.copyFileSync(path.join(REPO, 'deploy', 'Containerfile'), path.join(context, 'Containerfile'));
  const image = `localhost/wssh-test:${process.pid}`;
  const built = await podman.run(
    ['build', '--layers=false', '--network=host', '--format', 'docker', '--build-arg', `NODE_IMAGE=${base}`, '-t', image, context],
    {
      timeoutMs: 600_000,
    },
  );
  assert.equal(built.code, 0, built.stderr + built.stdout.toString());
  undo.push(['rmi', '-f', image]);

  await t.test('its configuration: user 1000, the health check on /healthz, wssh server, the config volumes, port 4567', async () => {
    const [inspected] = JSON.parse((await podman.checked(['image', 'inspect', image])).stdout.toString());
    const config = inspected.Config;
    assert.equal(config.User, '1000:1000');
    assert.match(inspected.Healthcheck.Test.join(' '), /http:\/\/127\.0\.0\.1:4567\/healthz/);
    assert.deepEqual(config.Entrypoint, ['/opt/wssh/node_modules/.bin/wssh', 'server']);
    assert.deepEqual(Object.keys(config.Volumes).sort(), ['/etc/wssh/policy', '/etc/wssh/users']);
    assert.deepEqual(Object.keys(config.ExposedPorts), ['4567/tcp']);
  });

  await t.test('what it holds: the server and its production dependencies; no compiler, npm or Electron', async () => {
    const script = 'ls /opt/wssh/node_modules; for p in npm npx gcc cc make g++ python3; do command -v $p && echo "found $p"; done; true';
    const listing = (await podman.checked(['run', '--rm', '--read-only', '--entrypoint', 'sh', image, '-c', script])).stdout.toString();
    const modules = listing.split('\n').filter((line) => line && !line.startsWith('/') && !line.startsWith('found'));
    assert.ok(modules.includes('wssh') && modules.includes('ws') && modules.includes('yaml'), listing);
    for (const forbidden of ['electron', 'electron-store', 'kerberos', 'typescript', 'node-gyp', 'bufferutil']) {
      assert.ok(!modules.includes(forbidden), `${forbidden} is in the image`);
    }
    assert.doesNotMatch(listing, /^found /m);
  });

  // The server, and an echo server in its network namespace (as a sidecar would be in a pod).
  const policy = path.join(dir, 'policy');
  fs.mkdirSync(policy);
  fs.writeFileSync(path.join(policy, 'hosts.yml'), 'echo.lan: "127.0.0.1:2222"\n');
  const port = await freePort();
  const name = `wssh-test-${process.pid}`;
  const args = ['--listen', '0.0.0.0:4567', '--hosts', '/etc/wssh/policy/hosts.yml', '--wait-for-config', '--drain', '3', '--keepalive', '0'];
  await podman.checked(['run', '-d', '--name', name, '--read-only', '-p', `127.0.0.1:${port}:4567`, '-v', `${policy}:/etc/wssh/policy:ro`, image, ...args]);
  undo.push(['rm', '-f', '-t', '0', name]);
  const echoServer = "require('net').createServer((s) => s.pipe(s)).listen(2222, '127.0.0.1')";
  undo.push(['rm', '-f', '-t', '0', `${name}-echo`]);
  await podman.checked(['run', '-d', '--name', `${name}-echo`, '--network', `container:${name}`, '--entrypoint', 'node', image, '-e', echoServer]);
  const logs = async () => {
    const r = await podman.run(['logs', name]);
    return r.stdout.toString() + r.stderr;
  };
  await waitFor(
    'the server to be ready',
    async () => (await probe(port, '/readyz').catch(() => undefined))?.status === 200,
    60_000,
    () => 'not ready',
  );

  await t.test('unprivileged, on a read-only root file system; the health check passes', async () => {
    assert.equal((await podman.checked(['exec', name, 'id', '-u'])).stdout.toString().trim(), '1000');
    const write = await podman.run(['exec', name, 'sh', '-c', 'echo x > /opt/wssh/x']);
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /Read-only file system/);
    const health = await podman.run(['healthcheck', 'run', name]);
    assert.equal(health.code, 0, health.stderr);
  });

  await t.test('a tunnel through it', async () => {
    const tunnel = await attempt(`ws://127.0.0.1:${port}/ssh/echo.lan`);
    assert.ok(tunnel.ws, tunnel.error ?? String(tunnel.status));
    assert.equal(await echoOnce(tunnel.ws, 'through the image'), 'through the image');
    tunnel.ws.close();
  });

  await t.test('podman stop: not ready at once, the open tunnel closed when the drain ends, exit 0', async () => {
    const tunnel = await attempt(`ws://127.0.0.1:${port}/ssh/echo.lan`);
    assert.ok(tunnel.ws, tunnel.error);
    const ended = closed(tunnel.ws);
    const stopped = podman.run(['stop', '-t', '30', name]);
    await waitFor(
      'SIGTERM',
      async () => /SIGTERM: not ready/.test(await logs()),
      20_000,
      () => 'no SIGTERM line',
    );
    assert.deepEqual(await probe(port, '/readyz'), { status: 503, body: { status: 'not ready', reasons: ['draining'] } });
    assert.equal(await echoOnce(tunnel.ws, 'during the drain'), 'during the drain');
    await ended;
    assert.equal((await stopped).code, 0);
    const state = JSON.parse((await podman.checked(['inspect', name])).stdout.toString())[0].State;
    assert.equal(state.ExitCode, 0, await logs());
    const output = await logs();
    assert.match(output, /tunnel 2 closed .* duration=[3-9]\.\ds reason="server shutting down"/);
    assert.match(output, /wssh server stopped\n/);
  });
});
