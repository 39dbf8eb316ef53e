// The browser-safe IP literal checks give node:net's answers: on hand-picked
// edge cases and on many generated near-addresses (random groups, zones,
// IPv4 tails, shorthands, stray characters).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { isIP, isIPv4, isIPv6 } from '../../src/shared/ipAddress';

const same = (text: string) => {
  assert.equal(isIPv4(text), net.isIPv4(text), `isIPv4(${JSON.stringify(text)})`);
  assert.equal(isIPv6(text), net.isIPv6(text), `isIPv6(${JSON.stringify(text)})`);
  assert.equal(isIP(text), net.isIP(text), `isIP(${JSON.stringify(text)})`);
};

test('edge cases agree with node:net', () => {
  const cases = [
    '',
    '0.0.0.0',
    '127.0.0.1',
    '255.255.255.255',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    '127.1',
    '0x7f.0.0.1',
    '2130706433',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '::',
    '::1',
    '0:0::1',
    '1::',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::',
    '::ffff:1.2.3.4',
    '::ffff:1.2.3.256',
    '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    'fe80::1%eth0',
    'fe80::1%',
    'fe80::1%a b',
    'fe80::1%25',
    '[::1]',
    ':::',
    '1:::2',
    '12345::',
    'g::1',
    'ABCD:ef01::',
    '::1.2.3.4',
    'localhost',
    'db1.lan',
    '1.2.3.4%eth0',
  ];
  for (const text of cases) same(text);
});

test('generated near-addresses agree with node:net', () => {
  // A fixed-seed generator, so a failure can be replayed.
  let seed = 20260101;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(items: T[]) => items[rand(items.length)];
  const group = () => pick(['0', '1', 'a', 'ff', 'FFFF', 'abcd', '12345', 'g', '', '00000', '7f']);
  const octet = () => pick(['0', '1', '9', '10', '99', '100', '199', '200', '249', '250', '255', '256', '300', '01', '']);
  const v4 = () => Array.from({ length: pick([3, 4, 4, 4, 5]) }, octet).join('.');
  for (let i = 0; i < 20_000; i++) {
    const groups = Array.from({ length: rand(10) }, group);
    if (rand(3) === 0) groups.splice(rand(groups.length + 1), 0, '');
    let text = groups.join(':');
    if (rand(4) === 0) text += ':' + v4();
    if (rand(6) === 0) text = pick(['::', ':', '']) + text + pick(['::', ':', '']);
    if (rand(8) === 0) text += pick(['%eth0', '%1', '%', '%a.b-c:d', '% ', '%é']);
    if (rand(10) === 0) text = v4();
    same(text);
  }
});
