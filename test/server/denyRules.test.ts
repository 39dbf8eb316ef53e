// Deny rules against other spellings of the same machine (issue 10): with a
// catch-all and loopback denied by name, IPv4-mapped IPv6, a zone id,
// 0.0.0.0 and [::] must not reach the loopback target; an address rule
// (CIDR: false) denies whatever the name resolves to. And a regex with a
// nested quantifier loads with a warning, and never runs on more than a
// target's length.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { WsshServer } from '../../server/wsshServer';
import { HostsPolicy, MAX_LOOKUP_LENGTH } from '../../server/policy/hostsPolicy';
import { parseTarget } from '../../src/shared/target';

import { tempDir } from '../fixtures/tmp';
import { writeHosts, spawnWsshServer } from '../fixtures/wssh';
import { attempt, echoOnce } from '../fixtures/upgradeClient';
import { waitForOutput } from '../../scripts/harness/processes';

let echo4: net.Server;
let echo6: net.Server;
let port: number;
const reached: string[] = [];

function echoOn(host: string, p = 0): Promise<net.Server> {
  const server = net.createServer((s) => {
    reached.push(host);
    s.on('error', () => {});
    s.pipe(s);
  });
  return new Promise((resolve) => server.listen(p, host, () => resolve(server)));
}

before(async () => {
  echo4 = await echoOn('127.0.0.1');
  port = (echo4.address() as net.AddressInfo).port;
  echo6 = await echoOn('::1', port).catch(() => echoOn('::1'));
});
after(() => {
  echo4.close();
  echo6.close();
});

async function serverWith(t: { after(f: () => unknown): void }, hosts: string) {
  const policy = HostsPolicy.parse(hosts);
  const server = new WsshServer({ policy: () => policy, keepaliveMs: 0 });
  const { port: p } = await server.listen(0);
  t.after(() => server.close());
  return (target: string) => attempt(`ws://127.0.0.1:${p}/ssh/${encodeURIComponent(target)}`);
}

test('with a catch-all and loopback denied by name, other spellings of loopback are refused', async (t) => {
  const open = await serverWith(t, `//: true\n"127.0.0.1:${port}": false\n"localhost:${port}": false\n"[::1]:${port}": false\n`);
  reached.length = 0;
  const answers: Record<string, number | undefined> = {};
  for (const target of [`[::ffff:127.0.0.1]:${port}`, `[::ffff:7f00:1]:${port}`, `[::1%lo]:${port}`, `0.0.0.0:${port}`, `[::]:${port}`]) {
    const r = await attempt_(open, target);
    answers[target] = r;
  }
  assert.deepEqual(reached, [], `reached loopback: ${JSON.stringify(answers)}`);
  assert.equal(answers[`[::ffff:127.0.0.1]:${port}`], 403);
  assert.equal(answers[`[::1%lo]:${port}`], 400);
  assert.equal(answers[`0.0.0.0:${port}`], 400);
  assert.equal(answers[`[::]:${port}`], 400);
});

async function attempt_(open: (target: string) => ReturnType<typeof attempt>, target: string): Promise<number | undefined> {
  const r = await open(target);
  r.ws?.terminate();
  return r.ws ? 101 : r.status;
}

test('an address rule denies what a name resolves to (deny-resolved); other addresses still work', async (t) => {
  const open = await serverWith(t, `//: true\n127.0.0.0/8: false\n`);
  reached.length = 0;
  const byName = await open(`localhost:${port}`);
  const byAddress = await open(`127.0.0.1:${port}`);
  assert.equal(byName.status, 403);
  assert.match(byName.body!, /localhost:\d+ resolves to 127\.0\.0\.1, denied by rule 127\.0\.0\.0\/8 at line 2/);
  assert.equal(byAddress.status, 403);
  assert.deepEqual(reached, []);
  const v6 = (echo6.address() as net.AddressInfo).port;
  const ok = await open(`[::1]:${v6}`);
  assert.ok(ok.ws, `${ok.status} ${ok.body}`);
  assert.equal(await echoOnce(ok.ws, 'v6'), 'v6');
  ok.ws.close();
});

test('address rules: CIDR keys only deny; bad ones are load errors', () => {
  const p = HostsPolicy.parse('"::1/128": false\n10.0.0.0/8: null\n');
  assert.equal(p.hasAddressRules, true);
  assert.match(p.deniedAddress('x', ['::ffff:10.1.2.3'])!, /resolves to 10\.1\.2\.3, denied by rule 10\.0\.0\.0\/8/);
  assert.equal(p.deniedAddress('x', ['192.0.2.1', '::2']), undefined);
  assert.throws(() => HostsPolicy.parse('10.0.0.0/8: true\n'), /address rule "10\.0\.0\.0\/8" can only deny/);
  assert.throws(() => HostsPolicy.parse('10.0.0.0/33: false\n'), /prefix \/33 is too long/);
  assert.equal(HostsPolicy.parse('//: true\n').hasAddressRules, false);
});

test('address rules: an IPv4-mapped IPv6 range denies the IPv4 addresses it maps (found by fuzzing)', () => {
  const p = HostsPolicy.parse('"::ffff:127.0.0.0/104": false\n');
  assert.match(p.deniedAddress('x', ['127.0.0.1'])!, /resolves to 127\.0\.0\.1, denied by rule ::ffff:127\.0\.0\.0\/104/);
  assert.match(p.deniedAddress('x', ['::ffff:127.0.0.2'])!, /denied by rule/);
  assert.equal(p.deniedAddress('x', ['10.0.0.1', '::1']), undefined);
  assert.equal(HostsPolicy.parse('::ffff:127.0.0.1/0: false\n').deniedAddress('x', ['::1']) !== undefined, true);
});

test("a regex with a nested quantifier loads with a warning; lookups are bounded to a target's length", async (t) => {
  const p = HostsPolicy.parse('/^(a+)+$/: true\n/^(?:\\w+\\.)*lan$/: true\n/\\.lan$/: true\n');
  assert.equal(p.warnings.length, 1, p.warnings.join('\n'));
  assert.match(p.warnings[0], /^hosts\.yml:1: regex \/\^\(a\+\)\+\$\/ has a nested quantifier/);
  assert.ok(MAX_LOOKUP_LENGTH >= 253 && MAX_LOOKUP_LENGTH < 300);
  assert.equal(p.decide({ host: 'a'.repeat(400), port: 22 }).allow, false);
  assert.equal(p.decide(parseTarget('db1.lan')).allow, true);
  // And wssh server says so at start.
  const dir = tempDir(t);
  const server = await spawnWsshServer(writeHosts(dir, '/^(a+)+$/: true\n'), ['--keepalive', '0']);
  t.after(() => server.stop());
  await waitForOutput(server, /hosts: warning: .*hosts\.yml:1: regex \/\^\(a\+\)\+\$\/ has a nested quantifier/);
});
