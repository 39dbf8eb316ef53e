// NTLMv2 for proxy sign-in (src/core/upstream/auth/ntlm.ts), checked against the
// test vectors of [MS-NLMP] §4.2.4 (NTLMv2 authentication: user "User",
// domain "Domain", password "Password", server challenge 0123456789abcdef,
// client challenge aaaaaaaaaaaaaaaa, time 0), and its refusals. (Against an
// independent implementation, python3-impacket: test/e2e/ntlm.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTLMSSP,
  NtlmError,
  authenticateMessage,
  negotiateMessage,
  ntlmv2Response,
  ntowfv2,
  parseChallengeMessage,
  splitDomainUser,
} from '../../src/core/upstream/auth/ntlm';
import { SERVER_FLAGS, SPEC_TARGET_INFO, challengeMessage, hex } from '../fixtures/ntlmMessages';

test('MS-NLMP 4.2.4: NTOWFv2, NTProofStr, LMv2 response and session base key', () => {
  const responseKey = ntowfv2('Password', 'User', 'Domain');
  assert.equal(responseKey.toString('hex'), '0c868a403bfd7a93a3001ef22ef02e3f', '4.2.4.1.1 NTOWFv2');
  const r = ntlmv2Response({
    user: 'User',
    domain: 'Domain',
    password: 'Password',
    serverChallenge: hex('0123456789abcdef'),
    clientChallenge: hex('aaaaaaaaaaaaaaaa'),
    time: 0n,
    targetInfo: SPEC_TARGET_INFO,
  });
  assert.equal(r.ntProofStr.toString('hex'), '68cd0ab851e51c96aabc927bebef6a1c', '4.2.4.2.2 NTProofStr');
  assert.equal(r.sessionBaseKey.toString('hex'), '8de40ccadbc14a82f15cb0ad0de95ca3', '4.2.4.1.2 SessionBaseKey');
  assert.equal(r.lmChallengeResponse.toString('hex'), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa', '4.2.4.2.1 LMv2 response');
  // temp: 0x01 0x01, Z(6), Time, ClientChallenge, Z(4), the AV pairs, Z(4).
  assert.equal(
    r.ntChallengeResponse.subarray(16).toString('hex'),
    '0101000000000000' + '0000000000000000' + 'aaaaaaaaaaaaaaaa' + '00000000' + SPEC_TARGET_INFO.toString('hex') + '00000000',
  );
});

test('the NEGOTIATE_MESSAGE: signature, type 1, NTLM with extended session security, no LM key', () => {
  const m = negotiateMessage();
  assert.equal(m.subarray(0, 8).toString('latin1'), 'NTLMSSP\0');
  assert.equal(m.readUInt32LE(8), 1);
  const flags = m.readUInt32LE(12);
  assert.ok(flags & NTLMSSP.NEGOTIATE_NTLM);
  assert.ok(flags & NTLMSSP.NEGOTIATE_EXTENDED_SESSIONSECURITY);
  assert.equal(flags & 0x80, 0);
});

test('a malformed CHALLENGE_MESSAGE is an NtlmError, not a crash', () => {
  assert.throws(() => parseChallengeMessage(Buffer.from('not ntlm at all, not at all')), NtlmError);
  assert.throws(() => parseChallengeMessage(negotiateMessage()), NtlmError);
  const broken = challengeMessage(SERVER_FLAGS, SPEC_TARGET_INFO);
  broken.writeUInt16LE(5000, 40); // TargetInfo longer than the message
  assert.throws(() => parseChallengeMessage(broken), NtlmError);
});

test('a TargetInfo too large to answer in 16-bit lengths is an NtlmError, not a RangeError (found by fuzzing)', () => {
  const big = Buffer.alloc(4 + 65_500);
  big.writeUInt16LE(2, 0); // MsvAvNbDomainName
  big.writeUInt16LE(65_500, 2);
  const message = challengeMessage(SERVER_FLAGS, Buffer.concat([big, Buffer.alloc(4)]));
  assert.throws(
    () => authenticateMessage({ negotiate: negotiateMessage(), challengeMessage: message, credentials: { domain: 'D', user: 'u', password: 'p' } }),
    (err: Error) => err instanceof NtlmError && /too large to answer/.test(err.message),
  );
});

test('DOMAIN\\user is split as Windows writes it; a UPN or a bare name has no domain', () => {
  assert.deepEqual(splitDomainUser('CORP\\alice'), { domain: 'CORP', user: 'alice' });
  assert.deepEqual(splitDomainUser('alice@corp.example'), { domain: '', user: 'alice@corp.example' });
  assert.deepEqual(splitDomainUser('alice'), { domain: '', user: 'alice' });
});
