/**
 * NTLM for a proxy's 407, version 2 only, per [MS-NLMP] (the section numbers
 * below are its): the NEGOTIATE_MESSAGE a client opens with, the server's
 * CHALLENGE_MESSAGE read, and the AUTHENTICATE_MESSAGE with the NTLMv2
 * response. NTLM v1 and LM responses are never computed or sent.
 *
 * Written here rather than taken from an npm NTLM client: those build v1
 * responses (or LM) by default or on a server's say-so, ignore the
 * challenge's MsvAvTimestamp, or reach for `crypto.createHash('md4')`, which
 * Node 20's OpenSSL 3 refuses (MD4 sits in its legacy provider). MD4 here is
 * js-md4, checked against RFC 1320's vectors by its own tests.
 *
 * NTLM authenticates the connection, not the request: the three messages go
 * over one keep-alive connection (see proxyTunnel.ts).
 */
import crypto from 'node:crypto';
// js-md4 has no type definitions; its CommonJS export hashes a Buffer or string.
// Required when first used: only a proxy that asks for NTLM needs it.
const md4 = (): { arrayBuffer(data: Uint8Array): ArrayBuffer } => require('js-md4');

/** NegotiateFlags bits (§2.2.2.5). */
export const NTLMSSP = {
  NEGOTIATE_UNICODE: 0x00000001,
  NEGOTIATE_OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  NEGOTIATE_NTLM: 0x00000200,
  NEGOTIATE_ALWAYS_SIGN: 0x00008000,
  NEGOTIATE_EXTENDED_SESSIONSECURITY: 0x00080000,
  NEGOTIATE_TARGET_INFO: 0x00800000,
  NEGOTIATE_VERSION: 0x02000000,
  NEGOTIATE_128: 0x20000000,
  NEGOTIATE_56: 0x80000000,
} as const;

/** AV_PAIR ids (§2.2.2.1). */
const MsvAvEOL = 0x0000;
const MsvAvFlags = 0x0006;
const MsvAvTimestamp = 0x0007;
/** MsvAvFlags bit: "the client is providing message integrity in the MIC field" (§2.2.2.1). */
const MIC_PROVIDED = 0x00000002;

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

/**
 * What the client offers (§3.1.5.1.1): Unicode or OEM, NTLM with extended
 * session security (the NTLMv2 path), 128- and 56-bit, and its version (so
 * that the AUTHENTICATE_MESSAGE has the Version field and room for a MIC).
 * No LM_KEY: that would ask for the LM-based session key.
 */
const CLIENT_FLAGS =
  (NTLMSSP.NEGOTIATE_UNICODE |
    NTLMSSP.NEGOTIATE_OEM |
    NTLMSSP.REQUEST_TARGET |
    NTLMSSP.NEGOTIATE_NTLM |
    NTLMSSP.NEGOTIATE_ALWAYS_SIGN |
    NTLMSSP.NEGOTIATE_EXTENDED_SESSIONSECURITY |
    NTLMSSP.NEGOTIATE_VERSION |
    NTLMSSP.NEGOTIATE_128 |
    NTLMSSP.NEGOTIATE_56) >>>
  0;

/**
 * The VERSION structure (§2.2.2.10): for debugging only, by the spec; this
 * says Windows 10.0 build 19041 as the closest thing a server knows, with
 * NTLMSSP_REVISION_W2K3 (15).
 */
const VERSION = Buffer.from([10, 0, 0x61, 0x4a, 0, 0, 0, 15]);

/** Credentials for NTLM: the user's domain (may be empty, e.g. for `alice@corp.example`), name and password. */
export interface NtlmCredentials {
  domain: string;
  user: string;
  password: string;
}

/**
 * `DOMAIN\user` split the way Windows writes it; a name without a backslash
 * (`alice`, or the UPN `alice@corp.example`) has an empty domain, which the
 * server then fills in with its own.
 */
export function splitDomainUser(name: string): { domain: string; user: string } {
  const at = name.indexOf('\\');
  return at < 0 ? { domain: '', user: name } : { domain: name.slice(0, at), user: name.slice(at + 1) };
}

/** The NEGOTIATE_MESSAGE (§2.2.1.1): no domain or workstation supplied. */
export function negotiateMessage(): Buffer {
  const message = Buffer.alloc(40);
  SIGNATURE.copy(message, 0);
  message.writeUInt32LE(1, 8);
  message.writeUInt32LE(CLIENT_FLAGS, 12);
  // DomainNameFields and WorkstationFields stay zero (offsets 16 and 24).
  VERSION.copy(message, 32);
  return message;
}

/** What a CHALLENGE_MESSAGE (§2.2.1.2) says, as far as the client needs it. */
export interface NtlmChallenge {
  flags: number;
  /** The 8-byte ServerChallenge. */
  serverChallenge: Buffer;
  /** The TargetInfo AV pairs, as sent (goes into the NTLMv2 blob). */
  targetInfo: Buffer;
  /** MsvAvTimestamp, if the server sent one (a FILETIME). */
  timestamp?: bigint;
}

/** A message that is not what NTLM's handshake says it must be. */
export class NtlmError extends Error {
  override name = 'NtlmError';
}

/** Reads a CHALLENGE_MESSAGE; throws NtlmError for anything malformed. */
export function parseChallengeMessage(message: Buffer): NtlmChallenge {
  if (message.length < 32 || !message.subarray(0, 8).equals(SIGNATURE) || message.readUInt32LE(8) !== 2) {
    throw new NtlmError('not an NTLM CHALLENGE_MESSAGE');
  }
  const flags = message.readUInt32LE(20);
  const serverChallenge = Buffer.from(message.subarray(24, 32));
  let targetInfo = Buffer.alloc(0);
  if (message.length >= 48 && flags & NTLMSSP.NEGOTIATE_TARGET_INFO) {
    const length = message.readUInt16LE(40);
    const offset = message.readUInt32LE(44);
    if (offset + length > message.length) throw new NtlmError("the CHALLENGE_MESSAGE's TargetInfo runs past its end");
    targetInfo = Buffer.from(message.subarray(offset, offset + length));
  }
  const timestamp = avPairs(targetInfo).find((p) => p.id === MsvAvTimestamp)?.value;
  return { flags, serverChallenge, targetInfo, timestamp: timestamp?.length === 8 ? timestamp.readBigUInt64LE(0) : undefined };
}

/** The AV pairs of a TargetInfo, up to MsvAvEOL (§2.2.2.1). */
function avPairs(targetInfo: Buffer): Array<{ id: number; value: Buffer }> {
  const pairs: Array<{ id: number; value: Buffer }> = [];
  for (let at = 0; at + 4 <= targetInfo.length;) {
    const id = targetInfo.readUInt16LE(at);
    const length = targetInfo.readUInt16LE(at + 2);
    if (id === MsvAvEOL) break;
    if (at + 4 + length > targetInfo.length) throw new NtlmError('a TargetInfo AV pair runs past its end');
    pairs.push({ id, value: targetInfo.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return pairs;
}

function encodeAvPairs(pairs: Array<{ id: number; value: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  for (const { id, value } of [...pairs, { id: MsvAvEOL, value: Buffer.alloc(0) }]) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value);
  }
  return Buffer.concat(parts);
}

const hmacMd5 = (key: Buffer, ...data: Buffer[]): Buffer => {
  const hmac = crypto.createHmac('md5', key);
  for (const d of data) hmac.update(d);
  return hmac.digest();
};

const utf16 = (text: string): Buffer => Buffer.from(text, 'utf16le');

/** NTOWFv2 (§3.3.2): HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(Uppercase(User) ‖ UserDom)). */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  const ntHash = Buffer.from(md4().arrayBuffer(utf16(password)));
  return hmacMd5(ntHash, utf16(user.toUpperCase() + domain));
}

export interface Ntlmv2Input extends NtlmCredentials {
  serverChallenge: Buffer;
  /** 8 random bytes. */
  clientChallenge: Buffer;
  /** A FILETIME: 100 ns since 1601-01-01 UTC. */
  time: bigint;
  /** The AV pairs that go into the blob (the spec's "ServerName"). */
  targetInfo: Buffer;
  /** §3.1.5.1.2: with the server's MsvAvTimestamp, the LmChallengeResponse is Z(24). */
  zeroLmResponse?: boolean;
}

export interface Ntlmv2Response {
  ntProofStr: Buffer;
  /** NTProofStr ‖ temp. */
  ntChallengeResponse: Buffer;
  /** LMv2 (HMAC over the two challenges, then the client challenge), or Z(24). */
  lmChallengeResponse: Buffer;
  sessionBaseKey: Buffer;
}

/** ComputeResponse for NTLM v2 (§3.3.2). */
export function ntlmv2Response(input: Ntlmv2Input): Ntlmv2Response {
  const responseKey = ntowfv2(input.password, input.user, input.domain);
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE(input.time, 0);
  // temp = Responserversion ‖ HiResponserversion ‖ Z(6) ‖ Time ‖ ClientChallenge ‖ Z(4) ‖ ServerName ‖ Z(4)
  const temp = Buffer.concat([Buffer.from([1, 1]), Buffer.alloc(6), time, input.clientChallenge, Buffer.alloc(4), input.targetInfo, Buffer.alloc(4)]);
  const ntProofStr = hmacMd5(responseKey, input.serverChallenge, temp);
  const lmChallengeResponse = input.zeroLmResponse
    ? Buffer.alloc(24)
    : Buffer.concat([hmacMd5(responseKey, input.serverChallenge, input.clientChallenge), input.clientChallenge]);
  return {
    ntProofStr,
    ntChallengeResponse: Buffer.concat([ntProofStr, temp]),
    lmChallengeResponse,
    sessionBaseKey: hmacMd5(responseKey, ntProofStr),
  };
}

/** A FILETIME for now. */
export function fileTimeNow(now = Date.now()): bigint {
  return (BigInt(now) + 11_644_473_600_000n) * 10_000n;
}

export interface AuthenticateOptions {
  /** The NEGOTIATE_MESSAGE this handshake began with (the MIC covers it). */
  negotiate: Buffer;
  /** The CHALLENGE_MESSAGE as received. */
  challengeMessage: Buffer;
  credentials: NtlmCredentials;
  /** For tests; else random. */
  clientChallenge?: Buffer;
  /** For tests; else the challenge's MsvAvTimestamp, or now. */
  time?: bigint;
}

/**
 * The AUTHENTICATE_MESSAGE (§2.2.1.3) answering `challengeMessage`.
 *
 * When the server sent MsvAvTimestamp, §3.1.5.1.2 says the client uses that
 * time in the blob (a server checks it against its clock), sends Z(24) as
 * the LmChallengeResponse, and provides a MIC, announced by MsvAvFlags in the
 * blob's AV pairs. No key exchange is asked for, so the MIC's key, the
 * ExportedSessionKey, is the SessionBaseKey (§3.4.5.1, KXKEY for v2).
 */
export function authenticateMessage(options: AuthenticateOptions): Buffer {
  const challenge = parseChallengeMessage(options.challengeMessage);
  const unicode = (challenge.flags & NTLMSSP.NEGOTIATE_UNICODE) !== 0;
  const text = (s: string) => (unicode ? utf16(s) : Buffer.from(s, 'latin1'));
  const withTimestamp = challenge.timestamp !== undefined;
  let targetInfo = challenge.targetInfo;
  if (withTimestamp) {
    const pairs = avPairs(challenge.targetInfo).filter((p) => p.id !== MsvAvFlags);
    const old = avPairs(challenge.targetInfo).find((p) => p.id === MsvAvFlags)?.value;
    const flags = Buffer.alloc(4);
    flags.writeUInt32LE(((old?.length === 4 ? old.readUInt32LE(0) : 0) | MIC_PROVIDED) >>> 0, 0);
    targetInfo = encodeAvPairs([...pairs, { id: MsvAvFlags, value: flags }]);
  }
  const { credentials } = options;
  const response = ntlmv2Response({
    ...credentials,
    serverChallenge: challenge.serverChallenge,
    clientChallenge: options.clientChallenge ?? crypto.randomBytes(8),
    time: options.time ?? challenge.timestamp ?? fileTimeNow(),
    targetInfo,
    zeroLmResponse: withTimestamp,
  });

  // The flags both sides can do, in the encoding the server chose.
  const flags =
    ((CLIENT_FLAGS & challenge.flags & ~(NTLMSSP.NEGOTIATE_UNICODE | NTLMSSP.NEGOTIATE_OEM)) |
      (unicode ? NTLMSSP.NEGOTIATE_UNICODE : NTLMSSP.NEGOTIATE_OEM) |
      NTLMSSP.NEGOTIATE_NTLM |
      NTLMSSP.NEGOTIATE_VERSION) >>>
    0;
  const fields = [response.lmChallengeResponse, response.ntChallengeResponse, text(credentials.domain), text(credentials.user), text(''), Buffer.alloc(0)];
  // Each field's length is 16 bits; the NT response carries the server's TargetInfo, so a
  // near-64 KiB TargetInfo cannot be answered (it was a RangeError: found by fuzzing).
  if (fields.some((field) => field.length > 0xffff)) throw new NtlmError("the CHALLENGE_MESSAGE's TargetInfo is too large to answer");
  const HEADER = 88; // up to and including the MIC
  const head = Buffer.alloc(HEADER);
  SIGNATURE.copy(head, 0);
  head.writeUInt32LE(3, 8);
  let offset = HEADER;
  fields.forEach((field, i) => {
    const at = 12 + i * 8;
    head.writeUInt16LE(field.length, at);
    head.writeUInt16LE(field.length, at + 2);
    head.writeUInt32LE(offset, at + 4);
    offset += field.length;
  });
  head.writeUInt32LE(flags, 60);
  VERSION.copy(head, 64);
  const message = Buffer.concat([head, ...fields]);
  if (withTimestamp) {
    const mic = hmacMd5(response.sessionBaseKey, options.negotiate, options.challengeMessage, message);
    mic.copy(message, 72);
  }
  return message;
}
