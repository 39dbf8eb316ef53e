// deploy/Containerfile read and checked without building it (the build and
// run are test/e2e/container.test.ts, where podman works): the official
// Node slim base, the install from the npm pack tarball without dev or
// optional dependencies or scripts, nothing of a compiler, npm or Electron
// in the image, an unprivileged user by number, the health check on the
// port the server listens on, `wssh server` as the entry point with options
// it has, and the config paths as volumes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { COMMANDS } from '../../src/cli/commands';
import { readContainerfile, optionsOf, type Instruction } from '../fixtures/containerfile';

const REPO = path.resolve(__dirname, '..', '..', '..');
const FILE = path.join(REPO, 'deploy', 'Containerfile');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } };
const instructions = readContainerfile(FILE);
const SERVER_OPTIONS = COMMANDS.server.options as Record<string, { type: string }>;
const FLAGS = new Set(Object.keys(SERVER_OPTIONS).filter((name) => SERVER_OPTIONS[name].type === 'boolean'));

function only(name: string, stage: number): Instruction {
  const found = instructions.filter((i) => i.name === name && i.stage === stage);
  assert.equal(found.length, 1, `one ${name} in stage ${stage}, found ${found.length}`);
  return found[0];
}

const last = Math.max(...instructions.map((i) => i.stage));
const cmd = optionsOf(only('CMD', last).exec!, FLAGS);

test('two stages, both on the official Node slim image of a Node the package supports', () => {
  const arg = instructions.find((i) => i.name === 'ARG' && i.stage === -1);
  const m = /^NODE_IMAGE=docker\.io\/library\/node:(\d+)-(bookworm|trixie)-slim$/.exec(arg?.text ?? '');
  assert.ok(m, `ARG NODE_IMAGE: ${arg?.text}`);
  assert.ok(Number(m[1]) >= Number(/\d+/.exec(pkg.engines.node)![0]), `node ${m[1]} for engines ${pkg.engines.node}`);
  const froms = instructions.filter((i) => i.name === 'FROM');
  assert.deepEqual(
    froms.map((f) => f.text),
    ['${NODE_IMAGE} AS install', '${NODE_IMAGE}'],
  );
});

test('the install: the npm pack tarball, production dependencies only, no scripts, not --global', () => {
  const install = instructions.filter((i) => i.stage === 0);
  assert.ok(install.some((i) => i.name === 'COPY' && /^wssh-\*\.tgz /.test(i.text)));
  const run = install.find((i) => i.name === 'RUN' && /npm install/.test(i.text));
  assert.ok(run, 'npm install of the tarball');
  for (const flag of ['--omit=dev', '--omit=optional', '--ignore-scripts', '--prefix /opt/wssh']) assert.ok(run.text.includes(flag), flag);
  // npm installs a global package's optional dependencies whatever --omit says.
  assert.doesNotMatch(run.text, /--global|\s-g\s/);
  assert.match(run.text, /\/tmp\/wssh-\*\.tgz/);
});

test('the image: only the installed modules copied in; no compiler, npm, Electron or package install', () => {
  const image = instructions.filter((i) => i.stage === last);
  const copies = image.filter((i) => i.name === 'COPY');
  assert.deepEqual(
    copies.map((c) => c.text),
    ['--from=install /opt/wssh/node_modules /opt/wssh/node_modules'],
  );
  const runs = image
    .filter((i) => i.name === 'RUN')
    .map((r) => r.text)
    .join('\n');
  assert.doesNotMatch(runs, /apt-get|apt install|build-essential|gcc|make|python|electron|npm install/);
  assert.match(runs, /rm -rf [^\n]*\/usr\/local\/lib\/node_modules\/npm/, 'npm is removed');
  assert.doesNotMatch(instructions.map((i) => i.text).join('\n'), /electron(?!-store)/i);
});

test('an unprivileged user by number; the config directories are volumes; the port is exposed', () => {
  const [user, group] = only('USER', last).text.split(':').map(Number);
  assert.ok(user > 0 && group > 0, 'not root');
  const volumes = only('VOLUME', last).exec!;
  assert.deepEqual(volumes, ['/etc/wssh/policy', '/etc/wssh/users']);
  const hosts = cmd.get('hosts');
  assert.equal(typeof hosts, 'string');
  assert.ok(volumes.includes(path.posix.dirname(hosts as string)), `--hosts ${hosts} is in a volume`);
  assert.equal(only('EXPOSE', last).text, String(listenPort()));
});

test('wssh server is the entry point, with options it has; it waits for its config', () => {
  assert.deepEqual(only('ENTRYPOINT', last).exec, ['/opt/wssh/node_modules/.bin/wssh', 'server']);
  for (const name of cmd.keys()) assert.ok(name in SERVER_OPTIONS, `--${name} is not a wssh server option`);
  assert.equal(cmd.get('wait-for-config'), true);
  assert.match(String(cmd.get('listen')), /^0\.0\.0\.0:\d+$/, 'reachable from outside the container');
  assert.equal(only('STOPSIGNAL', last).text, 'SIGTERM');
});

test('the health check asks /healthz on the port the server listens on', () => {
  const check = only('HEALTHCHECK', last).text;
  assert.match(check, /--interval=\d+s --timeout=\d+s/);
  const exec = JSON.parse(check.slice(check.indexOf('CMD ') + 4)) as string[];
  assert.equal(exec[0], 'node', 'no curl in a slim image: Node asks');
  assert.ok(exec.join(' ').includes(`http://127.0.0.1:${listenPort()}/healthz`), exec.join(' '));
});

function listenPort(): number {
  return Number(String(cmd.get('listen')).split(':').pop());
}
