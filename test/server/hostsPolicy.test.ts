import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HostsPolicy, loadPolicyFile, PolicyError, type Decision } from '../../server/policy/hostsPolicy';
import { parseTarget, type Target } from '../../src/shared/target';

/** The decision for a target written as a client would send it. */
function decide(policy: HostsPolicy | string, segment: string): Decision {
  const p = typeof policy === 'string' ? HostsPolicy.parse(policy) : policy;
  return p.decide(parseTarget(segment));
}

/** Asserts the target is allowed and returns where it goes, as host:port. */
function allowed(policy: HostsPolicy | string, segment: string): Target {
  const d = decide(policy, segment);
  assert.ok(d.allow, `expected ${segment} to be allowed, got: ${d.allow ? '' : d.reason}`);
  return d.target;
}

function denied(policy: HostsPolicy | string, segment: string): { rule: string | null; reason: string } {
  const d = decide(policy, segment);
  assert.ok(!d.allow, `expected ${segment} to be denied, got ${JSON.stringify(d)}`);
  return { rule: d.rule, reason: d.reason };
}

/** Asserts that parsing fails with this message, line and column. */
function parseError(text: string, expected: { line: number; column: number; message: string | RegExp }): void {
  assert.throws(
    () => HostsPolicy.parse(text),
    (err: unknown) => {
      assert.ok(err instanceof PolicyError, `expected a PolicyError, got ${String(err)}`);
      assert.equal(err.file, 'hosts.yml');
      assert.equal(err.line, expected.line, `line of: ${err.message}`);
      assert.equal(err.column, expected.column, `column of: ${err.message}`);
      if (typeof expected.message === 'string') assert.equal(err.message, expected.message);
      else assert.match(err.message, expected.message);
      return true;
    },
  );
}

describe('HostsPolicy: the original wssh format', () => {
  const original = HostsPolicy.parse('localhost: true\n/\\.lan$/: true\nfoo: bar.example.com\n');

  test('parses, one rule per line', () => {
    assert.equal(original.ruleCount, 3);
  });

  test('exact true allows the name as asked', () => {
    assert.deepEqual(allowed(original, 'localhost'), { host: 'localhost', port: 22 });
  });

  test('a regex true allows matching names as asked', () => {
    assert.deepEqual(allowed(original, 'db1.lan'), { host: 'db1.lan', port: 22 });
  });

  test('a string maps to another host on the asked port', () => {
    assert.deepEqual(allowed(original, 'foo'), { host: 'bar.example.com', port: 22 });
    assert.equal(decide(original, 'foo').rule, 'foo');
  });

  test('other names are denied, and so are other ports', () => {
    assert.deepEqual(denied(original, 'db9.example.com'), { rule: null, reason: 'no rule allows db9.example.com' });
    assert.deepEqual(denied(original, 'db1.lan:2222'), { rule: null, reason: 'no rule allows db1.lan:2222' });
    assert.deepEqual(denied(original, 'localhost:2222'), { rule: null, reason: 'no rule allows localhost:2222' });
  });

  test('the original catch-all //, /re/i mappings and false', () => {
    const p = HostsPolicy.parse(
      ['# a simple mapping', 'self: localhost', 'closed: false', 'github.com: true', '/lab$/i: gitlab.com', '//: localhost', '/10(?:\\.\\d+){3}/: true'].join(
        '\n',
      ),
    );
    assert.deepEqual(allowed(p, 'self'), { host: 'localhost', port: 22 });
    assert.deepEqual(allowed(p, 'github.com'), { host: 'github.com', port: 22 });
    assert.deepEqual(allowed(p, '10.1.2.3'), { host: '10.1.2.3', port: 22 });
    // Last matching regex wins: `//` comes after /lab$/i.
    assert.deepEqual(allowed(p, 'GitLab'), { host: 'localhost', port: 22 });
    // `//` matches the port part too: everything else goes to localhost.
    assert.deepEqual(allowed(p, 'anything:2222'), { host: 'localhost', port: 2222 });
    assert.deepEqual(denied(p, 'closed'), { rule: 'closed', reason: 'denied by rule closed at line 3' });
  });
});

describe('HostsPolicy: matching', () => {
  test('exact keys compare case-insensitively; the target keeps the asked spelling', () => {
    const p = 'DB1.Lan: true\n';
    assert.deepEqual(allowed(p, 'db1.lan'), { host: 'db1.lan', port: 22 });
    assert.deepEqual(allowed(p, 'DB1.LAN'), { host: 'DB1.LAN', port: 22 });
  });

  test('an exact key wins over regexes, whatever the order', () => {
    assert.deepEqual(allowed('/\\.lan$/: false\ndb1.lan: true\n', 'db1.lan'), { host: 'db1.lan', port: 22 });
    assert.deepEqual(allowed('db1.lan: true\n/\\.lan$/: false\n', 'db1.lan'), { host: 'db1.lan', port: 22 });
    assert.deepEqual(denied('db1.lan: false\n/\\.lan$/: true\n', 'db1.lan'), {
      rule: 'db1.lan',
      reason: 'denied by rule db1.lan at line 1',
    });
    assert.deepEqual(allowed('db1.lan: false\n/\\.lan$/: true\n', 'db2.lan'), { host: 'db2.lan', port: 22 });
  });

  test('among regexes the last match wins, a denying one included', () => {
    const text = 'x: true\n/\\.lan$/: true\n\n/^db/: false\n';
    assert.deepEqual(denied(text, 'db1.lan'), { rule: '/^db/', reason: 'denied by rule /^db/ at line 4' });
    assert.deepEqual(allowed(text, 'web.lan'), { host: 'web.lan', port: 22 });
    assert.deepEqual(allowed('/^db/: false\n/\\.lan$/: true\n', 'db1.lan'), { host: 'db1.lan', port: 22 });
    assert.deepEqual(allowed('/^db/: a.example\n/^db1/: b.example\n', 'db1'), { host: 'b.example', port: 22 });
  });

  test('deny by default', () => {
    assert.deepEqual(denied('a: true\n', 'db9.lan'), { rule: null, reason: 'no rule allows db9.lan' });
  });

  test('null and empty values deny', () => {
    assert.deepEqual(denied('db1:\n/./: true\n', 'db1'), { rule: 'db1', reason: 'denied by rule db1 at line 1' });
    assert.deepEqual(denied('db1: ~\n', 'db1'), { rule: 'db1', reason: 'denied by rule db1 at line 1' });
    assert.deepEqual(denied('db1: null\n', 'db1').rule, 'db1');
    assert.deepEqual(denied('/x/:\n', 'x').reason, 'denied by rule /x/ at line 1');
  });

  test('only port 22 unless a key names the port', () => {
    const p = HostsPolicy.parse('db1: true\ndb2:2222: true\ndb3:22: true\n');
    assert.deepEqual(allowed(p, 'db1'), { host: 'db1', port: 22 });
    denied(p, 'db1:2222');
    assert.deepEqual(allowed(p, 'db2:2222'), { host: 'db2', port: 2222 });
    denied(p, 'db2');
    denied(p, 'db2:2223');
    // `db3:22` is the same name as `db3`: port 22 is never part of the lookup.
    assert.deepEqual(allowed(p, 'db3'), { host: 'db3', port: 22 });
    assert.deepEqual(allowed(p, 'db3:22'), { host: 'db3', port: 22 });
  });

  test('...or a regex matches the :port part', () => {
    const p = HostsPolicy.parse('/^db\\d+\\.lan(:\\d+)?$/: true\n/\\.corp$/: true\n');
    assert.deepEqual(allowed(p, 'db1.lan'), { host: 'db1.lan', port: 22 });
    assert.deepEqual(allowed(p, 'db1.lan:2222'), { host: 'db1.lan', port: 2222 });
    assert.deepEqual(allowed(p, 'x.corp'), { host: 'x.corp', port: 22 });
    denied(p, 'x.corp:2222');
  });

  test('IPv6 keys: bare for port 22, quoted brackets with a port, canonical form', () => {
    const p = HostsPolicy.parse('::1: true\n"[fd00::5]:2222": true\n"0:0::7": true\n"[fd00::9]": true\n');
    assert.deepEqual(allowed(p, '::1'), { host: '::1', port: 22 });
    assert.deepEqual(allowed(p, '[::1]'), { host: '::1', port: 22 });
    denied(p, '[::1]:2222');
    assert.deepEqual(allowed(p, '[fd00::5]:2222'), { host: 'fd00::5', port: 2222 });
    assert.deepEqual(allowed(p, '::7'), { host: '::7', port: 22 });
    assert.deepEqual(allowed(p, '[fd00:0::9]'), { host: 'fd00::9', port: 22 });
  });

  test('regexes are case-sensitive unless /i', () => {
    assert.deepEqual(allowed('/^web/i: true\n', 'WEB1'), { host: 'WEB1', port: 22 });
    denied('/^web/: true\n', 'WEB1');
    assert.deepEqual(allowed('/^web/: true\n', 'web1'), { host: 'web1', port: 22 });
  });

  test('the decision target is a new object, not the request', () => {
    const requested = parseTarget('db1');
    const d = HostsPolicy.parse('db1: true\n').decide(requested);
    assert.ok(d.allow);
    assert.notEqual(d.target, requested);
    assert.deepEqual(d.target, requested);
  });

  test('YAML aliases are followed', () => {
    assert.deepEqual(allowed('a: &jump jump.example\nb: *jump\n', 'b'), { host: 'jump.example', port: 22 });
  });

  test('CRLF line ends and a BOM are fine', () => {
    const p = HostsPolicy.parse('\uFEFFa: true\r\nb: false\r\n');
    assert.equal(p.ruleCount, 2);
    allowed(p, 'a');
    assert.equal(denied(p, 'b').reason, 'denied by rule b at line 2');
  });

  test('a key YAML reads as a boolean is the host of that name', () => {
    assert.deepEqual(allowed('true: x.example\n', 'true'), { host: 'x.example', port: 22 });
  });
});

describe('HostsPolicy: mapping', () => {
  test('a mapped host without port keeps the asked port', () => {
    const p = HostsPolicy.parse('foo: bar.example\nfoo:2222: bar.example\n/^v6(:\\d+)?$/: "::1"\n');
    assert.deepEqual(allowed(p, 'foo'), { host: 'bar.example', port: 22 });
    assert.deepEqual(allowed(p, 'foo:2222'), { host: 'bar.example', port: 2222 });
    assert.deepEqual(allowed(p, 'v6:2200'), { host: '::1', port: 2200 });
  });

  test('a mapped host:port uses that port', () => {
    const p = HostsPolicy.parse('legacy: 10.0.0.7:2200\nlegacy:2222: 10.0.0.7:2200\nv6: "[fd00::7]:2201"\n');
    assert.deepEqual(allowed(p, 'legacy'), { host: '10.0.0.7', port: 2200 });
    assert.deepEqual(allowed(p, 'legacy:2222'), { host: '10.0.0.7', port: 2200 });
    assert.deepEqual(allowed(p, 'v6'), { host: 'fd00::7', port: 2201 });
  });

  test('$1..$9 are substituted from the regex groups', () => {
    const p = HostsPolicy.parse(
      ['/^(\\w+)\\.corp$/: $1.internal', '/^(\\w+)\\.(\\w+)\\.alt(?::(\\d+))?$/i: $2-$1.example:$3', '/^(\\w+)\\.fixed$/: $1.internal:2200'].join('\n'),
    );
    assert.deepEqual(allowed(p, 'web.corp'), { host: 'web.internal', port: 22 });
    assert.deepEqual(allowed(p, 'a.b.ALT:2022'), { host: 'b-a.example', port: 2022 });
    assert.deepEqual(allowed(p, 'db.fixed'), { host: 'db.internal', port: 2200 });
    assert.deepEqual(decide(p, 'web.corp').rule, '/^(\\w+)\\.corp$/');
  });

  test('a group that catches the port keeps it working through the mapping', () => {
    const p = HostsPolicy.parse('/^(\\w+)\\.corp(:\\d+)?$/: $1.internal$2\n');
    assert.deepEqual(allowed(p, 'web.corp'), { host: 'web.internal', port: 22 });
    assert.deepEqual(allowed(p, 'web.corp:2222'), { host: 'web.internal', port: 2222 });
  });

  test('a substitution that yields no valid host denies, saying why', () => {
    const p = HostsPolicy.parse('/^(\\w*)\\.?corp$/: $1.internal\n/^(\\w+)\\.x:(\\d+)$/: h:$2$2\n');
    assert.deepEqual(denied(p, 'corp'), {
      rule: '/^(\\w*)\\.?corp$/',
      reason: 'rule /^(\\w*)\\.?corp$/ at line 1 maps corp to ".internal": invalid host name ".internal"',
    });
    assert.match(denied(p, 'a.x:2222').reason, /maps a\.x:2222 to "h:22222222": port "22222222" is out of range/);
  });
});

describe('HostsPolicy: empty policies', () => {
  test('an empty file is a valid policy that denies everything', () => {
    for (const text of ['', '\n', '# nothing allowed yet\n', '---\n']) {
      const p = HostsPolicy.parse(text);
      assert.equal(p.ruleCount, 0);
      assert.deepEqual(denied(p, 'localhost'), { rule: null, reason: 'no rule allows localhost' });
    }
  });

  test('an empty mapping too', () => {
    assert.equal(HostsPolicy.parse('{}\n').ruleCount, 0);
  });
});

describe('HostsPolicy: errors name file, line and column', () => {
  test('invalid regex', () => {
    parseError('# rules\n  a: true\n\n  /[a/: true\n', {
      line: 4,
      column: 3,
      message: 'hosts.yml:4:3: invalid regex /[a/: Unterminated character class',
    });
    parseError('/(/i: true\n', { line: 1, column: 1, message: 'hosts.yml:1:1: invalid regex /(/i: Unterminated group' });
  });

  test('a value that is a list, a mapping or a number', () => {
    parseError('a: true\nb: true\n\n# db1 is special\n\ndb1:\n- a\n- b\n', {
      line: 7,
      column: 1,
      message: 'hosts.yml:7:1: value for "db1" must be true, false, null or a host name, got a list',
    });
    parseError('db1: [a]\n', { line: 1, column: 6, message: /value for "db1" must be .* got a list$/ });
    parseError('db1:\n  to: x\n', { line: 2, column: 3, message: /value for "db1" must be .* got a mapping$/ });
    parseError('db1: 1234\n', {
      line: 1,
      column: 6,
      message: 'hosts.yml:1:6: value for "db1" must be true, false, null or a host name, got a number (quote it if it is a host name)',
    });
  });

  test('yes/no/on/off are not booleans in YAML 1.2, so they are refused', () => {
    parseError('a: true\ndb1: yes\n', {
      line: 2,
      column: 6,
      message: 'hosts.yml:2:6: value for "db1" is "yes": write true or false (quote it if it is a host name)',
    });
    assert.deepEqual(allowed('db1: "no"\n', 'db1'), { host: 'no', port: 22 }, 'quoted, it is a host name');
  });

  test('YAML syntax errors, with their position', () => {
    parseError('a: true\nb: c: d\n', {
      line: 2,
      column: 4,
      message: 'hosts.yml:2:4: Nested mappings are not allowed in compact mappings',
    });
    parseError('a: true\nb: "open\n', { line: 3, column: 1, message: /^hosts\.yml:3:1: Missing closing "quote/ });
    parseError('\tdb1: true\n', { line: 1, column: 1, message: /^hosts\.yml:1:1: Tabs are not allowed/ });
    parseError('a: true\n---\nb: true\n', {
      line: 2,
      column: 1,
      message: 'hosts.yml:2:1: more than one YAML document: remove the "---" line',
    });
  });

  test('an unquoted [IPv6]:port gets a hint to quote it', () => {
    parseError('a: true\n[::1]:2222: true\n', { line: 2, column: 6, message: /quote names with "\[", like "\[::1\]:2222": true\)$/ });
    parseError('a: [::1]:2222\n', { line: 1, column: 9, message: /quote names with "\["/ });
  });

  test('duplicate keys, including the same name in another case or with :22', () => {
    parseError('db1: true\nweb: true\nDB1: false\n', {
      line: 3,
      column: 1,
      message: 'hosts.yml:3:1: duplicate rule "DB1" (same name as "db1" at line 1)',
    });
    parseError('db1: true\ndb1: false\n', { line: 2, column: 1, message: 'hosts.yml:2:1: duplicate rule "db1" (first at line 1)' });
    parseError('db1: true\ndb1:22: x\n', {
      line: 2,
      column: 1,
      message: 'hosts.yml:2:1: duplicate rule "db1:22" (same name as "db1" at line 1)',
    });
    parseError('/a/: true\nb: true\n/a/: false\n', {
      line: 3,
      column: 1,
      message: 'hosts.yml:3:1: duplicate rule "/a/" (first at line 1)',
    });
    // Different flags are different rules.
    assert.equal(HostsPolicy.parse('/a/: true\n/a/i: false\n').ruleCount, 2);
  });

  test('a document that is not a mapping', () => {
    parseError('- db1\n- db2\n', {
      line: 1,
      column: 1,
      message: 'hosts.yml:1:1: expected a mapping of host rules (name: true, false or a host), got a list',
    });
    parseError('# hosts\njust text\n', { line: 2, column: 1, message: /expected a mapping .* got a string$/ });
  });

  test('a mapped host that is not a valid target', () => {
    parseError('a: true\nfoo: "bad host"\n', {
      line: 2,
      column: 6,
      message: 'hosts.yml:2:6: value for "foo" is not a valid host: invalid host name "bad host"',
    });
    parseError('foo: bar:99999\n', {
      line: 1,
      column: 6,
      message: 'hosts.yml:1:6: value for "foo" is not a valid host: port "99999" is out of range 1-65535',
    });
    parseError('foo: ""\n', { line: 1, column: 6, message: 'hosts.yml:1:6: value for "foo" is not a valid host: empty host' });
    parseError('/x/: bar:0\n', { line: 1, column: 6, message: /value for "\/x\/" is not a valid host: port "0" is out of range/ });
    parseError('foo: $1.internal\n', { line: 1, column: 6, message: /invalid host name "\$1\.internal" \(\$1-\$9 only work with \/regex\/ keys\)$/ });
  });

  test('$n that the regex has no group for, or a template that cannot be a host', () => {
    parseError('/^(\\w+)\\.corp$/: $2.internal\n', {
      line: 1,
      column: 18,
      message: 'hosts.yml:1:18: value for "/^(\\w+)\\.corp$/" uses $2, but the regex has 1 group',
    });
    parseError('/^web$/: $1.internal\n', { line: 1, column: 10, message: /uses \$1, but the regex has no groups$/ });
    parseError('/^(a)$/: "$1 x"\n', { line: 1, column: 10, message: /value for "\/\^\(a\)\$\/" is not a valid host: invalid host name "\$1 x"/ });
  });

  test('keys that are neither a host nor a /regex/', () => {
    parseError('a: true\na b: true\n', { line: 2, column: 1, message: 'hosts.yml:2:1: invalid key "a b": invalid host name "a b"' });
    parseError('"": true\n', { line: 1, column: 1, message: 'hosts.yml:1:1: empty key' });
    parseError('~: true\n', { line: 1, column: 1, message: 'hosts.yml:1:1: key must be a host name or a /regex/, got null' });
    parseError('? [a, b]\n: true\n', { line: 1, column: 3, message: /key must be a host name or a \/regex\/, got a list \(quote keys/ });
    parseError('db1:99999: true\n', { line: 1, column: 1, message: /invalid key "db1:99999": port "99999" is out of range/ });
  });

  test('regex keys: only the i flag, and a closing slash', () => {
    parseError('/x/g: true\n', { line: 1, column: 1, message: 'hosts.yml:1:1: regex key "/x/g": only the "i" flag is allowed, got "g"' });
    parseError('a: true\n/x: true\n', { line: 2, column: 1, message: 'hosts.yml:2:1: regex key "/x" must end with "/" or "/i"' });
  });

  test('the source name is the one given', () => {
    assert.throws(() => HostsPolicy.parse('/[/: true\n', '/etc/wssh/hosts.yml'), {
      name: 'PolicyError',
      file: '/etc/wssh/hosts.yml',
      message: /^\/etc\/wssh\/hosts\.yml:1:1: invalid regex/,
    });
  });
});

describe('loadPolicyFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wssh-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('loads a file', () => {
    const path = join(dir, 'ok.yml');
    writeFileSync(path, 'localhost: true\n');
    const p = loadPolicyFile(path);
    assert.equal(p.ruleCount, 1);
    assert.equal(p.source, path);
    allowed(p, 'localhost');
  });

  test('a broken file: the message names the path', () => {
    const path = join(dir, 'broken.yml');
    writeFileSync(path, 'a: true\n/[a/: true\n');
    assert.throws(() => loadPolicyFile(path), {
      name: 'PolicyError',
      file: path,
      line: 2,
      column: 1,
      message: `${path}:2:1: invalid regex /[a/: Unterminated character class`,
    });
  });

  test('a missing file', () => {
    const path = join(dir, 'missing.yml');
    assert.throws(
      () => loadPolicyFile(path),
      (err: unknown) => {
        assert.ok(err instanceof PolicyError);
        assert.equal(err.message, `${path}: file not found`);
        assert.equal(err.line, undefined);
        return true;
      },
    );
  });

  test('a directory', () => {
    assert.throws(() => loadPolicyFile(dir), { message: `${dir}: is a directory, not a file` });
  });
});

describe('server/hosts.example.yml', () => {
  // Compiled tests run from dist/test/server; the sample stays in the source tree.
  const example = loadPolicyFile(join(__dirname, '../../../server/hosts.example.yml'));

  test('parses, and does what its comments say', () => {
    assert.ok(example.ruleCount >= 10);
    assert.deepEqual(allowed(example, 'localhost'), { host: 'localhost', port: 22 });
    denied(example, 'localhost:2222');
    assert.deepEqual(allowed(example, 'db1.lan:2222'), { host: 'db1.lan', port: 2222 });
    assert.deepEqual(allowed(example, '[fd00::5]:2222'), { host: 'fd00::5', port: 2222 });
    assert.deepEqual(allowed(example, 'bastion'), { host: 'jump.internal.example.com', port: 22 });
    assert.deepEqual(allowed(example, 'legacy'), { host: '10.0.0.7', port: 2200 });
    assert.deepEqual(allowed(example, 'legacy6'), { host: 'fd00::7', port: 2200 });
    assert.equal(denied(example, 'old-db.lan').rule, 'old-db.lan');
    assert.deepEqual(allowed(example, 'printer.lan'), { host: 'printer.lan', port: 22 });
    denied(example, 'printer.lan:2222');
    assert.deepEqual(allowed(example, 'db7.lan:5022'), { host: 'db7.lan', port: 5022 });
    assert.deepEqual(allowed(example, 'WEB.Corp'), { host: 'WEB.internal', port: 22 });
    assert.equal(denied(example, 'Backup-1.lan').rule, '/^backup-/i');
    assert.equal(denied(example, 'example.org').rule, null);
  });
});
