/**
 * The SOCKS 4/4a/5 messages the local proxy reads (socksHandshake.ts), on
 * their own: greetings and requests built as clients send them, then
 * mutated. The same bytes over a socket are the local-proxy target's.
 */
import * as fc from 'fast-check';
import { SocksError, parseSocks4Request, parseSocks5Greeting, parseSocks5Request } from '../../../src/core/localProxy/socksHandshake';
import { formatTarget, parseTarget } from '../../../src/shared/target';
import { hostArb, mutatedBytes, portArb } from '../mutate';
import { holds, onlyErrors, same, type FuzzTarget } from '../target';

const u16 = (n: number) => Buffer.from([(n >> 8) & 255, n & 255]);

export const socks5Greeting = fc
  .array(fc.oneof(fc.constant(0), fc.constant(2), fc.integer({ min: 0, max: 255 })), { minLength: 0, maxLength: 5 })
  .map((methods) => Buffer.from([5, methods.length, ...methods]));

export const socks5Request = fc
  .record({
    command: fc.constantFrom(1, 1, 1, 2, 3, 9),
    atyp: fc.constantFrom(1, 3, 4, 3, 7),
    host: hostArb,
    port: portArb,
    rest: fc.uint8Array({ maxLength: 8 }),
  })
  .map(({ command, atyp, host, port, rest }) => {
    const address =
      atyp === 1
        ? Buffer.from(
            host
              .split('.')
              .map((n) => Number(n) & 255)
              .slice(0, 4)
              .concat([0, 0, 0, 0])
              .slice(0, 4),
          )
        : atyp === 4
          ? Buffer.alloc(16, host.length)
          : Buffer.concat([Buffer.from([Math.min(host.length, 255)]), Buffer.from(host.slice(0, 255), 'latin1')]);
    return Buffer.concat([Buffer.from([5, command, 0, atyp]), address, u16(port & 0xffff), rest]);
  });

export const socks4Request = fc
  .record({
    command: fc.constantFrom(1, 1, 2),
    a: fc.boolean(),
    host: hostArb,
    ip: fc.ipV4(),
    user: fc.string({ maxLength: 12 }),
    port: portArb,
    rest: fc.uint8Array({ maxLength: 8 }),
  })
  .map(({ command, a, host, ip, user, port, rest }) =>
    Buffer.concat([
      Buffer.from([4, command]),
      u16(port & 0xffff),
      Buffer.from(a ? [0, 0, 0, 1] : ip.split('.').map(Number)),
      Buffer.from(user + '\0', 'latin1'),
      a ? Buffer.from(host + '\0', 'latin1') : Buffer.alloc(0),
      rest,
    ]),
  );

const TOKENS = ['\u0000', '\u0005', '\u0004', '\u0001', '\u0003', '\u00ff', '\u0000\u0000\u0000\u0001'];

export const socksTarget: FuzzTarget<{ greeting: Buffer; request5: Buffer; request4: Buffer }> = {
  name: 'socks',
  about: 'SOCKS5 greetings and requests, SOCKS4 and 4a requests (parseSocks5Greeting, parseSocks5Request, parseSocks4Request)',
  arbitrary: fc.record({
    greeting: mutatedBytes(socks5Greeting, TOKENS),
    request5: mutatedBytes(socks5Request, TOKENS),
    request4: mutatedBytes(socks4Request, TOKENS),
  }),
  testRuns: 3000,
  caseMs: 1000,
  check({ greeting, request5, request4 }) {
    const greeted = onlyErrors('parseSocks5Greeting', [SocksError], () => parseSocks5Greeting(greeting));
    if (greeted) holds(greeted.length <= greeting.length, () => `greeting length ${greeted.length} past the ${greeting.length} bytes given`);
    for (const [name, parse, buf] of [
      ['parseSocks5Request', parseSocks5Request, request5],
      ['parseSocks4Request', parseSocks4Request, request4],
    ] as const) {
      const request = onlyErrors(name, [SocksError], () => parse(buf));
      if (!request) continue;
      holds(request.length <= buf.length, () => `${name} read ${request.length} of ${buf.length} bytes`);
      // The request alone, without what followed it, reads the same.
      const alone = parse(buf.subarray(0, request.length));
      holds(same(alone?.target, request.target), () => `${name} of the request alone gave ${JSON.stringify(alone)}`);
      holds(same(parseTarget(formatTarget(request.target)), request.target), () => `${name}'s target ${JSON.stringify(request.target)} does not round-trip`);
      // Any prefix is "more bytes needed" or the same refusal, never another request.
      const prefix = onlyErrors(name, [SocksError], () => parse(buf.subarray(0, request.length - 1)));
      holds(prefix === undefined, () => `${name} took a prefix as a whole request: ${JSON.stringify(prefix)}`);
    }
  },
};
