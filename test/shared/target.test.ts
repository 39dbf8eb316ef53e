import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatTarget, parseHostPort, parseTarget, TargetError, type Target } from '../../src/shared/target';

function rejects(segment: string, message: string | RegExp): void {
  assert.throws(
    () => parseTarget(segment),
    (err: unknown) => {
      assert.ok(err instanceof TargetError, `expected a TargetError for ${JSON.stringify(segment)}`);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

describe('parseTarget', () => {
  test('a bare host means port 22, as old clients send it', () => {
    assert.deepEqual(parseTarget('db1.lan'), { host: 'db1.lan', port: 22 });
    assert.deepEqual(parseTarget('localhost'), { host: 'localhost', port: 22 });
  });

  test('host:port', () => {
    assert.deepEqual(parseTarget('db1.lan:2222'), { host: 'db1.lan', port: 2222 });
    assert.deepEqual(parseTarget('db1.lan:22'), { host: 'db1.lan', port: 22 });
    assert.deepEqual(parseTarget('db1:65535'), { host: 'db1', port: 65535 });
    assert.deepEqual(parseTarget('db1:1'), { host: 'db1', port: 1 });
  });

  test('IPv4 addresses, with and without port', () => {
    assert.deepEqual(parseTarget('192.168.1.5'), { host: '192.168.1.5', port: 22 });
    assert.deepEqual(parseTarget('10.0.0.7:2200'), { host: '10.0.0.7', port: 2200 });
  });

  test('IPv6 in brackets, with and without port; host without brackets', () => {
    assert.deepEqual(parseTarget('[::1]:2222'), { host: '::1', port: 2222 });
    assert.deepEqual(parseTarget('[::1]'), { host: '::1', port: 22 });
    assert.deepEqual(parseTarget('[fd00::5]:22'), { host: 'fd00::5', port: 22 });
  });

  test('bare unbracketed IPv6 (old clients) is the whole address, port 22', () => {
    assert.deepEqual(parseTarget('::1'), { host: '::1', port: 22 });
    assert.deepEqual(parseTarget('fd00::5'), { host: 'fd00::5', port: 22 });
    // Looks like a port, but without brackets it is the address's last group.
    assert.deepEqual(parseTarget('::1:2222'), { host: '::1:2222', port: 22 });
  });

  test('IPv6 is put in canonical form, so one address has one spelling', () => {
    assert.deepEqual(parseTarget('0:0:0:0:0:0:0:1'), { host: '::1', port: 22 });
    assert.deepEqual(parseTarget('[FD00:0::A]:2222'), { host: 'fd00::a', port: 2222 });
  });

  test('deny-rule dodges (issue 10): IPv4-mapped IPv6 is IPv4; zone ids and unspecified addresses are refused', () => {
    assert.deepEqual(parseTarget('[::ffff:127.0.0.1]'), { host: '127.0.0.1', port: 22 });
    assert.deepEqual(parseTarget('[::FFFF:7f00:1]:2222'), { host: '127.0.0.1', port: 2222 });
    assert.deepEqual(parseTarget('::ffff:10.1.2.3'), { host: '10.1.2.3', port: 22 });
    for (const bad of ['[::1%lo]', 'fe80::1%eth0', '0.0.0.0', '[::]', '::', '0.1.2.3:22', '[::ffff:0.0.0.0]', '[0:0:0:0:0:0:0:0]:22']) {
      assert.throws(() => parseTarget(bad), TargetError, bad);
    }
    assert.throws(() => parseTarget('[::1%lo]'), /zone id/);
    assert.throws(() => parseTarget('0.0.0.0'), /unspecified/);
  });

  test('lenient host names: underscores, digits, hyphens inside', () => {
    assert.deepEqual(parseTarget('_ssh.my-host.lan'), { host: '_ssh.my-host.lan', port: 22 });
    assert.deepEqual(parseTarget('1e100.net'), { host: '1e100.net', port: 22 });
    assert.deepEqual(parseTarget('DB1.Lan'), { host: 'DB1.Lan', port: 22 }, 'case is kept: the name as asked');
  });

  test('empty host', () => {
    rejects('', 'empty host');
    rejects(':22', 'empty host');
  });

  test('bad ports say what is wrong', () => {
    rejects('db1:99999', 'port "99999" is out of range 1-65535');
    rejects('db1:0', 'port "0" is out of range 1-65535');
    rejects('db1:', 'empty port');
    rejects('db1:ssh', 'port "ssh" is not a number');
    rejects('db1:-1', 'port "-1" is not a number');
    rejects('[::1]:', 'empty port');
    rejects('[::1]:70000', 'port "70000" is out of range 1-65535');
  });

  test('bad host names', () => {
    rejects('a b', 'invalid host name "a b"');
    rejects('a/b', 'invalid host name "a/b"');
    rejects('a..b', 'invalid host name "a..b"');
    rejects('.lan', 'invalid host name ".lan"');
    rejects('db1.lan.', 'invalid host name "db1.lan.": remove the trailing "."');
    rejects('-oProxy.lan', 'invalid host name "-oProxy.lan": starts with "-"');
    rejects('a'.repeat(64) + '.lan', /label is longer than 63/);
    rejects(Array(64).fill('abc').join('.'), /longer than 253/);
  });

  test('numeric IPv4 shorthands that resolvers accept are refused', () => {
    for (const s of ['127.1', '2130706433', '0x7f.0.0.1', '127.000.000.001', '1.2.3.4.5']) {
      rejects(s, /looks like an IPv4 address/);
    }
  });

  test('bad brackets and IPv6', () => {
    rejects('[::1', 'missing "]" in "[::1"');
    rejects('[::1]2222', 'unexpected "2222" after "]" in "[::1]2222"; expected ":port"');
    rejects('[]:22', 'empty IPv6 address in "[]:22"');
    rejects('[db1]:22', 'invalid IPv6 address "db1"');
    rejects('[1.2.3.4]', 'invalid IPv6 address "1.2.3.4"');
    rejects('a:b:c', 'invalid IPv6 address "a:b:c"');
    rejects('1::2::3', 'invalid IPv6 address "1::2::3"');
  });
});

describe('parseHostPort', () => {
  test('tells "no port" from port 22', () => {
    assert.deepEqual(parseHostPort('db1'), { host: 'db1' });
    assert.deepEqual(parseHostPort('db1:22'), { host: 'db1', port: 22 });
    assert.deepEqual(parseHostPort('[::1]'), { host: '::1' });
    assert.deepEqual(parseHostPort('::1'), { host: '::1' });
    assert.deepEqual(parseHostPort('[::1]:2200'), { host: '::1', port: 2200 });
  });
});

describe('formatTarget', () => {
  test('bare host for port 22, host:port otherwise', () => {
    assert.equal(formatTarget({ host: 'db1.lan', port: 22 }), 'db1.lan');
    assert.equal(formatTarget({ host: 'db1.lan', port: 2222 }), 'db1.lan:2222');
    assert.equal(formatTarget({ host: '10.0.0.7', port: 2200 }), '10.0.0.7:2200');
  });

  test('IPv6: brackets only when a port follows', () => {
    assert.equal(formatTarget({ host: '::1', port: 22 }), '::1');
    assert.equal(formatTarget({ host: '::1', port: 2222 }), '[::1]:2222');
    assert.equal(formatTarget({ host: 'fe80::1%eth0', port: 2222 }), '[fe80::1%eth0]:2222');
  });

  test('round-trips through parseTarget', () => {
    const targets: Target[] = [
      { host: 'db1.lan', port: 22 },
      { host: 'db1.lan', port: 2222 },
      { host: '::1', port: 22 },
      { host: '::1', port: 2222 },
      { host: '192.168.1.5', port: 80 },
    ];
    for (const t of targets) assert.deepEqual(parseTarget(formatTarget(t)), t);
  });
});
