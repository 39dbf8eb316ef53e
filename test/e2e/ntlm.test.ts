// NTLMv2 for proxy sign-in (src/core/upstream/auth/ntlm.ts) against an
// independent implementation, python3-impacket (Debian's, for
// /usr/bin/python3), reading the AUTHENTICATE_MESSAGE this code builds for
// a challenge with MsvAvTimestamp and recomputing its NTProofStr and MIC with
// its own MD4 and HMAC. (Against the test vectors of [MS-NLMP] §4.2.4:
// test/core/ntlm.test.ts.)

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { NTLMSSP, authenticateMessage, negotiateMessage } from '../../src/core/upstream/auth/ntlm';
import { runProgram } from '../../scripts/harness/processes';
import { requireProgram } from '../../scripts/harness/programs';
import { SERVER_FLAGS, SPEC_TARGET_INFO, challengeMessage, hex, withTimestamp } from '../fixtures/ntlmMessages';

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

async function impacket(t: TestContext, input: object): Promise<Record<string, unknown> | undefined> {
  // Debian's python3, through requireProgram: refused in the unit part as any Debian program is.
  const python = requireProgram(t, '/usr/bin/python3');
  if (!python) return undefined;
  const probe = await runProgram(python, ['-c', 'import impacket.ntlm']);
  if (probe.code !== 0) {
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
