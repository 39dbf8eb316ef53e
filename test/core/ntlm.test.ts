// NTLMv2 for proxy sign-in (src/core/proxyAuth/ntlm.ts), checked two ways:
// against the test vectors of [MS-NLMP] §4.2.4 (NTLMv2 authentication:
// user "User", domain "Domain", password "Password", server challenge
// 0123456789abcdef, client challenge aaaaaaaaaaaaaaaa, time 0), and against
// an independent implementation, python3-impacket (Debian's, for
// /usr/bin/python3), reading the AUTHENTICATE_MESSAGE this code builds for
// a challenge with MsvAvTimestamp and recomputing its NTProofStr and MIC with
// its own MD4 and HMAC.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  NTLMSSP,
  NtlmError,
  authenticateMessage,
  negotiateMessage,
  ntlmv2Response,
  ntowfv2,
  parseChallengeMessage,
  splitDomainUser,
} from '../../src/core/proxyAuth/ntlm';
import { runProgram } from '../../scripts/harness/processes';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", MsvAvEOL: the AV pairs of §4.2.4.3. */
const SPEC_TARGET_INFO = hex('02000c00 44006f006d00610069006e00 01000c00 53006500720076006500720000000000');

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

/** A CHALLENGE_MESSAGE (§2.2.1.2) with the given flags and AV pairs. */
function challengeMessage(flags: number, targetInfo: Buffer, serverChallenge = hex('0123456789abcdef')): Buffer {
  const targetName = Buffer.from('Domain', 'utf16le');
  const head = Buffer.alloc(56);
  Buffer.from('NTLMSSP\0', 'latin1').copy(head, 0);
  head.writeUInt32LE(2, 8);
  head.writeUInt16LE(targetName.length, 12);
  head.writeUInt16LE(targetName.length, 14);
  head.writeUInt32LE(56, 16);
  head.writeUInt32LE(flags >>> 0, 20);
  serverChallenge.copy(head, 24);
  head.writeUInt16LE(targetInfo.length, 40);
  head.writeUInt16LE(targetInfo.length, 42);
  head.writeUInt32LE(56 + targetName.length, 44);
  Buffer.from([6, 1, 0xb1, 0x1d, 0, 0, 0, 15]).copy(head, 48);
  return Buffer.concat([head, targetName, targetInfo]);
}

const SERVER_FLAGS =
  NTLMSSP.NEGOTIATE_UNICODE |
  NTLMSSP.REQUEST_TARGET |
  NTLMSSP.NEGOTIATE_NTLM |
  NTLMSSP.NEGOTIATE_ALWAYS_SIGN |
  NTLMSSP.NEGOTIATE_EXTENDED_SESSIONSECURITY |
  NTLMSSP.NEGOTIATE_TARGET_INFO |
  NTLMSSP.NEGOTIATE_VERSION |
  NTLMSSP.NEGOTIATE_128 |
  NTLMSSP.NEGOTIATE_56 |
  0x80; // NEGOTIATE_LM_KEY offered by the server: the client must not take it (the number is negative: bit 31)

/** The spec's AV pairs with an MsvAvTimestamp (id 7) before the EOL. */
function withTimestamp(time: bigint): Buffer {
  const stamp = Buffer.alloc(12);
  stamp.writeUInt16LE(7, 0);
  stamp.writeUInt16LE(8, 2);
  stamp.writeBigUInt64LE(time, 4);
  return Buffer.concat([SPEC_TARGET_INFO.subarray(0, SPEC_TARGET_INFO.length - 4), stamp, hex('00000000')]);
}

// impacket reads the message by its offsets and recomputes what a server would check.
const IMPACKET_CHECK = `
import base64, json, struct, sys
from impacket import ntlm
req = json.load(sys.stdin)
neg, chal, auth = (base64.b64decode(req[k]) for k in ('negotiate', 'challenge', 'authenticate'))
def field(i):
    length, _, offset = struct.unpack_from('<HHI', auth, 12 + 8 * i)
    return auth[offset:offset + length]
lm, nt, domain, user, host, key = (field(i) for i in range(6))
flags = struct.unpack_from('<I', auth, 60)[0]
server_challenge = chal[24:32]
key_nt = ntlm.NTOWFv2(user.decode('utf-16le'), req['password'], domain.decode('utf-16le'))
blob = nt[16:]
proof = ntlm.hmac_md5(key_nt, server_challenge + blob)
session_base_key = ntlm.hmac_md5(key_nt, proof)
zeroed = auth[:72] + b'\\0' * 16 + auth[88:]
mic = ntlm.hmac_md5(session_base_key, neg + chal + zeroed)
pairs = ntlm.AV_PAIRS(blob[28:-4])
av_flags = pairs[ntlm.NTLMSSP_AV_FLAGS]
av_time = pairs[ntlm.NTLMSSP_AV_TIME]
print(json.dumps({
    'user': user.decode('utf-16le'), 'domain': domain.decode('utf-16le'), 'host': host.decode('utf-16le'),
    'lm': lm.hex(), 'ntProofOk': proof == nt[:16], 'blobTime': blob[8:16].hex(),
    'micOk': mic == auth[72:88], 'mic': auth[72:88].hex(), 'flags': flags, 'sessionKeyLen': len(key),
    'avFlags': struct.unpack('<I', av_flags[1])[0] if av_flags else None,
    'avTime': av_time[1].hex() if av_time else None,
}))
`;

async function impacket(t: { skip(message: string): void }, input: object): Promise<Record<string, unknown> | undefined> {
  const python = '/usr/bin/python3';
  const probe = fs.existsSync(python) ? await runProgram(python, ['-c', 'import impacket.ntlm']) : undefined;
  if (!probe || probe.code !== 0) {
    const message = 'python3-impacket not found for /usr/bin/python3: apt-get install python3-impacket';
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: the CI image must provide every test program)`);
    t.skip(message);
    return undefined;
  }
  const r = await runProgram(python, ['-c', IMPACKET_CHECK], { input: JSON.stringify(input) });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.toString());
}

test('impacket agrees: the AUTHENTICATE_MESSAGE for a challenge with MsvAvTimestamp (its time in the blob, Z(24) for LM, a MIC)', async (t) => {
  const time = 0x01d9_1234_5678_9abcn;
  const challenge = challengeMessage(SERVER_FLAGS, withTimestamp(time));
  const negotiate = negotiateMessage();
  const credentials = { domain: 'CORP', user: 'alice', password: 'Pässword-1' };
  const authenticate = authenticateMessage({ negotiate, challengeMessage: challenge, credentials });
  const seen = await impacket(t, {
    negotiate: negotiate.toString('base64'),
    challenge: challenge.toString('base64'),
    authenticate: authenticate.toString('base64'),
    password: credentials.password,
  });
  if (!seen) return;
  const stamp = Buffer.alloc(8);
  stamp.writeBigUInt64LE(time);
  assert.deepEqual(seen, {
    user: 'alice',
    domain: 'CORP',
    host: '',
    lm: '00'.repeat(24),
    ntProofOk: true,
    blobTime: stamp.toString('hex'),
    micOk: true,
    mic: authenticate.subarray(72, 88).toString('hex'),
    flags: seen.flags,
    sessionKeyLen: 0,
    avFlags: 2,
    avTime: stamp.toString('hex'),
  });
  assert.notEqual(seen.mic, '00'.repeat(16));
  const flags = seen.flags as number;
  assert.equal(flags & 0x80, 0, 'no NEGOTIATE_LM_KEY, whatever the server offers');
  assert.ok(flags & NTLMSSP.NEGOTIATE_EXTENDED_SESSIONSECURITY);
  assert.ok(flags & NTLMSSP.NEGOTIATE_UNICODE);
});

test('impacket agrees: without MsvAvTimestamp, an LMv2 response (never LM or v1) and no MIC', async (t) => {
  const challenge = challengeMessage(SERVER_FLAGS, SPEC_TARGET_INFO, hex('f00dfeedcafe0001'));
  const negotiate = negotiateMessage();
  const before = (BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n;
  const authenticate = authenticateMessage({ negotiate, challengeMessage: challenge, credentials: { domain: '', user: 'alice@corp.example', password: 'pw' } });
  const seen = await impacket(t, {
    negotiate: negotiate.toString('base64'),
    challenge: challenge.toString('base64'),
    authenticate: authenticate.toString('base64'),
    password: 'pw',
  });
  if (!seen) return;
  assert.equal(seen.user, 'alice@corp.example');
  assert.equal(seen.domain, '');
  assert.equal(seen.ntProofOk, true);
  assert.equal(seen.avFlags, null, 'no MsvAvFlags added');
  assert.equal(seen.mic, '00'.repeat(16));
  // LMv2 = HMAC_MD5(key, server challenge ‖ client challenge) ‖ client challenge: 24 bytes ending in the blob's client challenge.
  const nt = authenticate.subarray(authenticate.readUInt32LE(24), authenticate.readUInt32LE(24) + authenticate.readUInt16LE(20));
  assert.equal((seen.lm as string).length, 48);
  assert.equal((seen.lm as string).slice(32), nt.subarray(32, 40).toString('hex'));
  const blobTime = Buffer.from(seen.blobTime as string, 'hex').readBigUInt64LE();
  assert.ok(blobTime >= before && blobTime < before + 600_000_000n, 'the time is now');
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

test('DOMAIN\\user is split as Windows writes it; a UPN or a bare name has no domain', () => {
  assert.deepEqual(splitDomainUser('CORP\\alice'), { domain: 'CORP', user: 'alice' });
  assert.deepEqual(splitDomainUser('alice@corp.example'), { domain: '', user: 'alice@corp.example' });
  assert.deepEqual(splitDomainUser('alice'), { domain: '', user: 'alice' });
});
