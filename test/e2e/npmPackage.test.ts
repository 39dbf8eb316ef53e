// The server installed like a tool: `npm pack` of the built checkout, then
// `npm install -g --prefix TMP ./wssh-VERSION.tgz` as on a gateway that has
// only Node, and the installed `wssh` running for real (`wssh server` +
// `wssh connect` + ssh through them to a real sshd). The package holds the
// built CLI, core and server and their samples only; the install brings no
// Electron, no builder, no compiler, and runs no build.
//
// The registry must be reachable (or npm's cache must hold the dependencies:
// --prefer-offline uses it first). Without it the test skips, and fails in CI.

import { test, TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProgram, spawnDaemon, type Daemon, waitForOutput } from '../../scripts/harness/processes';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { npmEnv } from '../fixtures/npm';
import { waitFor } from '../fixtures/tunnel';

const REPO = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

/** What the package may hold: the built CLI, core (with the shared defaults it reads) and server, their samples, the docs. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^dist\/src\/cli\/[\w./]+\.js$/,
  /^dist\/src\/core\/[\w./]+\.js$/,
  /^dist\/src\/shared\/[\w./]+\.js$/,
  /^dist\/server\/[\w./]+\.js$/,
  /^server\/[\w.]+\.yml$/,
  /^server\/wssh\.service$/,
  /^nginx\/[\w.-]+\.conf$/,
  /^SECURITY\.md$/,
  /^CHANGELOG\.md$/,
  /^docs\/[\w.-]+\.md$/,
  // npm always packs the file named by "main" (the tray app's entry, for electron-builder); nothing loads it here.
  /^dist\/src\/main\/main\.js$/,
];

/** Packages that must never come with the CLI. */
const FORBIDDEN = ['electron', 'electron-builder', 'app-builder-lib', 'typescript', 'esbuild', 'playwright-core', 'node-gyp', '@types/node'];

const NETWORK_ERRORS = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENOTCACHED|ENETUNREACH/;

/** The files a module loads (relative requires), from `entry` on: all must be in the package. */
function requiredFiles(entry: string, root: string): string[] {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of fs.readFileSync(file, 'utf8').matchAll(/require\("(\.[^"]+)"\)/g)) {
      walk(require.resolve(path.resolve(path.dirname(file), match[1])));
    }
  };
  walk(entry);
  return [...seen].map((f) => path.relative(root, f).split(path.sep).join('/')).sort();
}

async function install(t: TestContext, args: string[], cwd: string): Promise<boolean> {
  const r = await runProgram('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...args], { cwd, env: npmEnv(), timeoutMs: 180_000 });
  if (r.code === 0) return true;
  if (NETWORK_ERRORS.test(r.stderr) && process.env.CI !== 'true') {
    t.skip(`the npm registry is not reachable: ${r.stderr.split('\n').find((l) => NETWORK_ERRORS.test(l))}`);
    return false;
  }
  assert.fail(`npm install ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
}

/** Starts the installed `wssh` with `args`; resolves with its port once `ready` shows in its output. */
/** Starts the installed bin under this Node, after `nodeFlags` (the unit's). */
async function startInstalled(bin: string, args: string[], ready: RegExp, nodeFlags: string[] = []): Promise<Daemon & { port: number }> {
  const daemon = spawnDaemon(`installed wssh ${args[0]}`, process.execPath, [...nodeFlags, bin, ...args]);
  try {
    const match = await waitFor(
      `installed wssh ${args[0]} to listen`,
      () => ready.exec(daemon.output()) ?? (daemon.exitStatus() ? assert.fail(daemon.output()) : undefined),
      15_000,
      () => daemon.output(),
    );
    return { ...daemon, port: Number(match[1]) };
  } catch (err) {
    await daemon.stop();
    throw err;
  }
}

test('npm pack yields the CLI and server; npm install -g of it runs wssh server + connect for ssh', async (t) => {
  const programs = requirePrograms(t, 'npm', 'sshd', 'ssh', 'nc');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-npm-');

  // The checkout is built (the tests run from dist); pack it as it is.
  const packed = await runProgram('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO, env: npmEnv(), timeoutMs: 60_000 });
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout.toString()) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
  const tarball = path.join(dir, info.filename);
  assert.equal(info.filename, `wssh-${pkg.version}.tgz`);
  const files = info.files.map((f) => f.path).sort();
  t.diagnostic(`${info.filename}: ${files.length} files, ${(info.size / 1024).toFixed(1)} KiB`);

  await t.test('the package holds the built CLI, core and server with their samples, nothing else', () => {
    const stray = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
    assert.deepEqual(stray, [], 'files outside the CLI and server');
    for (const needed of [
      'README.md',
      'docs/server.md',
      'docs/cli.md',
      'SECURITY.md',
      'server/hosts.example.yml',
      'server/users.example.yml',
      'server/wssh.service',
      'nginx/wssh.conf',
      'nginx/wssh-location.conf',
    ]) {
      assert.ok(files.includes(needed), needed);
    }
    // Everything the command loads is in it.
    const missing = requiredFiles(path.join(REPO, 'dist', 'src', 'cli', 'wssh.js'), REPO).filter((f) => !files.includes(f));
    assert.deepEqual(missing, []);
  });

  const prefix = path.join(dir, 'prefix');
  if (!(await install(t, ['-g', '--prefix', prefix, tarball], dir))) return;
  const bin = path.join(prefix, 'bin', 'wssh');
  const installed = path.join(prefix, 'lib', 'node_modules', 'wssh');

  await t.test('the install: the wssh command and its runtime dependencies, no Electron, builder or compiler, no build', async () => {
    const version = await runProgram(bin, ['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.toString(), `wssh ${pkg.version}\n`);
    const modules = fs.readdirSync(path.join(installed, 'node_modules'));
    // Scoped names too.
    for (const name of Object.keys(pkg.dependencies)) assert.ok(fs.existsSync(path.join(installed, 'node_modules', name)), `${name} installed`);
    t.diagnostic(`installed: ${modules.length} packages in node_modules`);
    const present = FORBIDDEN.filter((name) => fs.existsSync(path.join(installed, 'node_modules', name)));
    assert.deepEqual(present, []);
    assert.ok(!fs.existsSync(path.join(installed, 'src')) && !fs.existsSync(path.join(installed, 'dist', 'test')), 'no sources, no tests');
    // The prepare script builds in a checkout only: in the installed package it does nothing (and needs no compiler).
    const prepare = await runProgram('npm', ['run', 'prepare'], { cwd: installed, env: npmEnv() });
    assert.equal(prepare.code, 0, prepare.stderr);
    assert.deepEqual(fs.readdirSync(path.join(installed, 'dist')).sort(), ['server', 'src']);
    // bufferutil came as a prebuilt binary, not compiled.
    const masked = await runProgram(process.execPath, ['-e', "process.stdout.write(typeof require('bufferutil').mask)"], { cwd: installed });
    assert.equal(masked.stdout.toString(), 'function', masked.stderr);
  });

  await t.test('the installed wssh server and wssh connect carry ssh to a real sshd', async () => {
    const sshd = await startSshd();
    t.after(() => sshd.stop());
    // The shipped sample policy is valid as installed.
    const sample = await startInstalled(
      bin,
      ['server', '--listen', '127.0.0.1:0', '--hosts', path.join(installed, 'server', 'hosts.example.yml')],
      /listening on ws:\/\/[^\s]*:(\d+)\//,
    );
    await sample.stop();
    // The server as the shipped systemd unit starts it, with this test's prefix, port and policy.
    const unit = fs.readFileSync(path.join(installed, 'server', 'wssh.service'), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1].split(/\s+/);
    const binAt = execStart.indexOf('/opt/wssh/bin/wssh');
    assert.equal(execStart[0], '/usr/bin/node', 'the unit runs node');
    assert.equal(execStart[binAt + 1], 'server', 'the unit runs the installed bin of --prefix /opt/wssh');
    // Node's own flags in the unit, if it has any: this Node must accept them.
    const nodeFlags = execStart.slice(1, binAt);
    assert.ok(
      nodeFlags.every((f) => f.startsWith('--')),
      `node flags: ${nodeFlags.join(' ')}`,
    );
    const unitArgs = execStart
      .slice(binAt + 1)
      .map((a) => (a === '127.0.0.1:4567' ? '127.0.0.1:0' : a === '/etc/wssh/hosts.yml' ? writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n`) : a));
    const server = await startInstalled(bin, unitArgs, /listening on ws:\/\/[^\s]*:(\d+)\//, nodeFlags);
    t.after(() => server.stop());
    const proxy = await startInstalled(
      bin,
      ['connect', `ws://127.0.0.1:${server.port}/ssh`, '--listen', '127.0.0.1:0', '--no-proxy'],
      /CONNECT proxy on [^\s]*:(\d+) /,
    );
    t.after(() => proxy.stop());
    const r = await runSsh([
      ...sshArgs(sshd, { host: 'localhost', proxyCommand: `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h 22` }),
      'echo installed ok',
    ]);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${proxy.output()}\n${server.output()}`);
    assert.equal(r.stdout.toString(), 'installed ok\n');
    await waitForOutput(server, /tunnel \d+ open client=127\.0\.0\.1 target=localhost via=127\.0\.0\.1:\d+/);
  });

  await t.test("--omit=optional (a local install) also leaves out the tray app's settings store", async () => {
    const lean = path.join(dir, 'lean');
    fs.mkdirSync(lean);
    if (!(await install(t, ['--omit=optional', tarball], lean))) return;
    const modules = fs.readdirSync(path.join(lean, 'node_modules'));
    assert.ok(!modules.includes('electron-store') && !modules.includes('conf'), modules.join(' '));
    const version = await runProgram(path.join(lean, 'node_modules', '.bin', 'wssh'), ['--version']);
    assert.equal(version.stdout.toString(), `wssh ${pkg.version}\n`, version.stderr);
  });
});
