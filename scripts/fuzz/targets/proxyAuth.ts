/**
 * What an upstream proxy's 407 carries: `Proxy-Authenticate` challenges
 * (auth/challenges.ts) and NTLM CHALLENGE_MESSAGEs (auth/ntlm.ts), read and
 * answered on their own; the same over a socket is the upstream-answer
 * target's.
 */
import * as fc from 'fast-check';
import { parseChallenges, findChallenge } from '../../../src/core/upstream/auth/challenges';
import { NTLMSSP, NtlmError, authenticateMessage, negotiateMessage, parseChallengeMessage } from '../../../src/core/upstream/auth/ntlm';
import { mutatedBytes, mutatedText } from '../mutate';
import { holds, onlyErrors, type FuzzTarget } from '../target';

/** An AV pair list (MS-NLMP §2.2.2.1), ending in MsvAvEOL unless `eol` is false; one value may be large. */
const avPairs = fc
  .record({
    pairs: fc.array(fc.tuple(fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x4242), fc.uint8Array({ maxLength: 40 })), { maxLength: 6 }),
    big: fc.option(fc.integer({ min: 1000, max: 65535 }), { nil: undefined, freq: 8 }),
    timestamp: fc.boolean(),
    eol: fc.boolean(),
  })
  .map(({ pairs, big, timestamp, eol }) => {
    const all: Array<[number, Uint8Array]> = [...pairs];
    if (timestamp) all.push([7, Buffer.from('0000a1b2c3d4e501', 'hex')]);
    if (big !== undefined) all.push([2, Buffer.alloc(big, 0x41)]);
    const parts = all.flatMap(([id, value]) => {
      const head = Buffer.alloc(4);
      head.writeUInt16LE(id, 0);
      head.writeUInt16LE(value.length, 2);
      return [head, Buffer.from(value)];
    });
    return Buffer.concat([...parts, eol ? Buffer.alloc(4) : Buffer.alloc(0)]);
  });

/** A CHALLENGE_MESSAGE as a proxy sends it: header, flags, server challenge, TargetInfo at its offset. */
export const ntlmChallenge = fc
  .record({ flags: fc.oneof(fc.constant(0xe2898235), fc.nat({ max: 0xffffffff })), challenge: fc.uint8Array({ minLength: 8, maxLength: 8 }), info: avPairs })
  .map(({ flags, challenge, info }) => {
    const head = Buffer.alloc(48);
    Buffer.from('NTLMSSP\0', 'latin1').copy(head, 0);
    head.writeUInt32LE(2, 8);
    head.writeUInt32LE((flags | NTLMSSP.NEGOTIATE_TARGET_INFO) >>> 0, 20);
    Buffer.from(challenge).copy(head, 24);
    head.writeUInt16LE(info.length & 0xffff, 40);
    head.writeUInt16LE(info.length & 0xffff, 42);
    head.writeUInt32LE(48, 44);
    return Buffer.concat([head, info]);
  });

const scheme = fc.constantFrom('Negotiate', 'NTLM', 'Basic', 'Digest', 'basic', 'Bearer', 'X-Unknown');
const param = fc
  .tuple(
    fc.constantFrom('realm', 'charset', 'nonce', 'qop', 'x'),
    fc.oneof(
      fc.string({ maxLength: 10 }).map((v) => JSON.stringify(v)),
      fc.constantFrom('abc', 'UTF-8', ''),
    ),
  )
  .map(([k, v]) => `${k}=${v}`);
const challengeText = fc
  .tuple(
    scheme,
    fc.oneof(
      fc.constant(''),
      fc.base64String({ maxLength: 80 }),
      fc.array(param, { minLength: 1, maxLength: 3 }).map((p) => p.join(', ')),
    ),
  )
  .map(([s, rest]) => (rest ? `${s} ${rest}` : s));
export const challengeHeader = fc.array(challengeText, { minLength: 1, maxLength: 3 }).map((c) => c.join(', '));

const TOKENS = [',', '=', '"', '\\', ' ', '\t', '==', 'NTLM ', 'Negotiate ', 'realm=', '\u0000'];

export const proxyAuthTarget: FuzzTarget<{ headers: string[]; challenge: Buffer }> = {
  name: 'proxy-auth',
  about: 'Proxy-Authenticate challenges (parseChallenges) and NTLM challenge messages (parseChallengeMessage, authenticateMessage)',
  arbitrary: fc.record({
    headers: fc.array(mutatedText(challengeHeader, TOKENS), { maxLength: 3 }),
    challenge: mutatedBytes(ntlmChallenge, ['\u0000\u0000\u0000\u0000', '\u00ff\u00ff', 'NTLMSSP\u0000']),
  }),
  testRuns: 1500,
  caseMs: 1000,
  check({ headers, challenge }) {
    const challenges = onlyErrors('parseChallenges', [], () => parseChallenges(headers))!;
    for (const c of challenges) {
      holds(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(c.scheme), () => `a scheme that is no token: ${JSON.stringify(c.scheme)}`);
      holds(findChallenge(challenges, c.scheme) !== undefined, () => `findChallenge misses ${c.scheme}`);
    }
    onlyErrors('parseChallengeMessage', [NtlmError], () => parseChallengeMessage(challenge));
    const answer = onlyErrors('authenticateMessage', [NtlmError], () =>
      authenticateMessage({ negotiate: negotiateMessage(), challengeMessage: challenge, credentials: { domain: 'CORP', user: 'alice', password: 'pw' } }),
    );
    if (answer) holds(answer.subarray(0, 8).toString('latin1') === 'NTLMSSP\0' && answer.readUInt32LE(8) === 3, () => 'the answer is no AUTHENTICATE_MESSAGE');
  },
};
