/**
 * The wire of the resume extension (issue #20): what a client and a server
 * say on the upgrade to make a tunnel outlive its WebSocket, and the one
 * control message after it. Nothing here is sent unless both ends offered
 * it, so an old peer (the original wssh, a server or client of the last
 * version) sees today's wire byte for byte.
 *
 * A new tunnel. The client generates a session key (16 random bytes,
 * base64url without padding: 22 characters) and offers resume with it:
 *
 *     GET /ssh/db1.lan HTTP/1.1
 *     X-WSSH-Session: q3Lx0sV8b1Yk2nZ4cWm9Aw
 *
 * The key is the client's so that it exists before any server has seen the
 * tunnel: nginx's `hash` on it (nginx/wssh-upstream.conf) spreads new
 * tunnels over the servers and sends a resume, which carries the same key,
 * to the same one. An old client sends no header: nginx would hash the empty
 * key to one server, so the shipped config hashes `$request_id` instead. The key is not a secret (it is in every request, and
 * may be logged); the token below is.
 *
 * A server that can resume answers the 101 with a secret resumption token
 * (at least 16 random bytes, base64url, never logged, sent only on this
 * response), its window (the most bytes either side keeps unacknowledged)
 * and how long it parks a broken session:
 *
 *     HTTP/1.1 101 Switching Protocols
 *     X-WSSH-Resume-Token: 9fJ2…(22 or more characters)
 *     X-WSSH-Resume-Window: 4194304
 *     X-WSSH-Resume-Timeout: 300
 *
 * No token in the 101 (an old server, or resume turned off): today's tunnel.
 *
 * A resume is a new upgrade to the same URL (the same target, the same
 * Basic auth: the client authenticates again) with the session key, the
 * token and the count of tunnel bytes the client has received so far:
 *
 *     X-WSSH-Session: q3Lx0sV8b1Yk2nZ4cWm9Aw
 *     X-WSSH-Resume-Token: 9fJ2…
 *     X-WSSH-Resume-Received: 18874368
 *
 * The server's 101 says how many it received (`X-WSSH-Resume-Received`).
 * Each side then replays what it sent from the other's count on: every byte
 * arrives once, in order. A server that does not hold the session refuses
 * the upgrade with a status (the next step adds the refusal's row).
 *
 * After the upgrade, binary frames stay pure SSH bytes, with no header of
 * ours: the data path costs nothing extra, and a count of bytes is all the
 * sequence numbering needed (WebSocket over TCP neither reorders nor drops
 * inside one connection). Acknowledgements are text frames, in resume mode
 * only: `ack <bytes received>` (decimal, the total since the tunnel began),
 * which lets the sender drop what the peer holds. Counts are totals, never
 * deltas, so a lost ack is covered by the next one.
 */
import crypto from 'node:crypto';
import { peerText } from './peerText';

/** The client's session key, on every upgrade that offers or asks for a resume. */
export const SESSION_HEADER = 'X-WSSH-Session';
/** The secret resumption token: in the server's 101 of a new tunnel, in the client's resume request. */
export const RESUME_TOKEN_HEADER = 'X-WSSH-Resume-Token';
/** The window in bytes, in the server's 101 of a new tunnel. */
export const RESUME_WINDOW_HEADER = 'X-WSSH-Resume-Window';
/** How long the server parks a broken session, in seconds, in the server's 101 of a new tunnel. */
export const RESUME_TIMEOUT_HEADER = 'X-WSSH-Resume-Timeout';
/** Tunnel bytes received so far: in a resume request (the client's count) and its 101 (the server's). */
export const RESUME_RECEIVED_HEADER = 'X-WSSH-Resume-Received';

/** Random bytes of a session key: 128 bits, so that two clients never pick the same. */
export const SESSION_KEY_BYTES = 16;
/** Random bytes of a resumption token: 128 bits, as Teleport's (RFD 0150), out of reach of guessing. */
export const RESUME_TOKEN_BYTES = 16;
/** The longest token accepted: 64 random bytes. Longer is no safer, only a bigger header to hold. */
const MAX_TOKEN_CHARS = 86;
/** base64url characters of n bytes without padding. */
const base64urlChars = (bytes: number) => Math.ceil((bytes * 8) / 6);

/**
 * The most bytes a side keeps sent and unacknowledged (and so may replay).
 * An ack comes back a round trip after its bytes left, so a tunnel moves at
 * most window / round trip. Measured (`npm run bench -- --resume`: one tunnel
 * through a relay that delays 50 ms each way, a 100 ms round trip, three runs
 * on a busy 2-core machine): 256 KiB 2.5 MB/s, 1 MiB 9.3-10 MB/s, 4 MiB
 * 36-39 MB/s, 16 MiB 86-128 MB/s, against window / round trip 2.6, 10.5, 42
 * and 168 MB/s (at 16 MiB the machine's CPU limited, as it did with resume
 * off, 70-180 MB/s). So 4 MiB carries about 300 Mbit/s at 100 ms and 1 Gbit/s
 * up to 30 ms, more than the uplink of the networks this is for (home,
 * office, VPN), for at most 4 MiB held per direction of a busy tunnel; the
 * process's buffer budget (256 MiB) bounds what many hold together: 1000 busy
 * tunnels cut at once peaked at 493-541 MB RSS in `wssh server`, against
 * 170-180 MB with resume off. 16 MiB (Teleport's, for a busier protocol)
 * would hold four times that per tunnel for links few SSH sessions have. An
 * idle tunnel holds nothing (its peer acks within 200 ms), so a parked one
 * costs what an open one does: 1000 parked took the server from 62 MB at
 * rest to 99-102 MB, 1000 open to 94-97 MB.
 */
export const DEFAULT_RESUME_WINDOW = 4 * 1024 * 1024;
/** The smallest window a peer may announce: below it the acks would stall the sender on any link. */
export const MIN_RESUME_WINDOW = 64 * 1024;
/** The largest window a peer may announce: a hostile server must not make the client hold a gigabyte. */
export const MAX_RESUME_WINDOW = 256 * 1024 * 1024;
/**
 * How long a broken session is kept, in seconds: five minutes covers a Wi-Fi
 * roam, a VPN coming up, an nginx reload and a lid closed for a coffee,
 * while a flood of abandoned sessions frees its slots soon enough.
 */
export const DEFAULT_RESUME_TIMEOUT_SEC = 300;
/** The longest park a peer may announce: a day. */
export const MAX_RESUME_TIMEOUT_SEC = 24 * 60 * 60;

/** The text frame of an acknowledgement: `ack <bytes received>`. */
export const ACK_PREFIX = 'ack ';
/** The longest ack frame: the prefix and 16 digits. A longer text that starts like one is malformed, not decoded. */
export const MAX_ACK_BYTES = ACK_PREFIX.length + 16;

/** A resume field or message that breaks the rules: which one, and why, in words. */
export class ResumeProtocolError extends Error {
  override readonly name = 'ResumeProtocolError';
  constructor(
    /** The header or message at fault (`X-WSSH-Resume-Received`, `ack`, `replay`). */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** A count: decimal, no sign, no leading zero, at most 16 digits (safe integers have 16). */
const COUNT = /^(0|[1-9][0-9]{0,15})$/;

/** A peer's header value as a message quotes it: escaped, cut. */
function shown(value: string): string {
  return `"${peerText(value, 40)}"`;
}

/** A new session key: 128 random bits, base64url. */
export function newSessionKey(): string {
  return crypto.randomBytes(SESSION_KEY_BYTES).toString('base64url');
}

/** A new resumption token: 128 random bits, base64url. */
export function newResumeToken(): string {
  return crypto.randomBytes(RESUME_TOKEN_BYTES).toString('base64url');
}

/** Node gives a header as string, string[] (repeated) or undefined; a repeated one is refused, not guessed at. */
type HeaderValue = string | string[] | undefined;

function single(field: string, value: HeaderValue): string | undefined {
  if (Array.isArray(value)) {
    if (value.length !== 1) throw new ResumeProtocolError(field, `${field} was sent ${value.length} times`);
    return value[0];
  }
  return value;
}

function base64urlField(field: string, value: string, minChars: number, maxChars: number): string {
  if (value.length < minChars || value.length > maxChars) {
    const size = minChars === maxChars ? `${minChars}` : `${minChars} to ${maxChars}`;
    throw new ResumeProtocolError(field, `${field} must be ${size} base64url characters, not ${value.length}`);
  }
  if (!BASE64URL.test(value)) throw new ResumeProtocolError(field, `${field} has a character outside base64url: ${shown(value)}`);
  return value;
}

/** A session key as sent: exactly 22 base64url characters (128 bits). Throws ResumeProtocolError. */
export function parseSessionKey(value: string): string {
  const chars = base64urlChars(SESSION_KEY_BYTES);
  return base64urlField(SESSION_HEADER, value, chars, chars);
}

/** A resumption token as sent: 22 to 86 base64url characters (128 to 512 bits). Throws ResumeProtocolError. */
export function parseResumeToken(value: string): string {
  return base64urlField(RESUME_TOKEN_HEADER, value, base64urlChars(RESUME_TOKEN_BYTES), MAX_TOKEN_CHARS);
}

/**
 * A count of bytes (received, acknowledged): a decimal safe integer, as
 * sent, with nothing around it. Throws ResumeProtocolError naming `field`.
 */
export function parseCount(field: string, value: string): number {
  if (!COUNT.test(value)) throw new ResumeProtocolError(field, `${field} must be a count of bytes (decimal digits), not ${shown(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new ResumeProtocolError(field, `${field} is beyond the largest count, ${Number.MAX_SAFE_INTEGER}: ${shown(value)}`);
  return n;
}

function boundedCount(field: string, value: string, min: number, max: number, unit: string): number {
  const n = parseCount(field, value);
  if (n < min || n > max) throw new ResumeProtocolError(field, `${field} must be ${min} to ${max} ${unit}, not ${n}`);
  return n;
}

/** What a server offers on the 101 of a new tunnel. */
export interface ResumeOffer {
  token: string;
  /** Bytes either side keeps unacknowledged. */
  window: number;
  /** Seconds the server parks a broken session. */
  timeoutSec: number;
}

/** What a client asks for on a resume's upgrade. */
export interface ResumeRequest {
  sessionKey: string;
  token: string;
  /** Tunnel bytes the client has received. */
  received: number;
}

/** Request headers, as node's IncomingMessage gives them (lower-case names). */
type Headers = Record<string, HeaderValue>;

const lower = (name: string) => name.toLowerCase();

/** The headers of a client's first upgrade that offers resume. */
export function offerHeaders(sessionKey: string): Record<string, string> {
  return { [SESSION_HEADER]: sessionKey };
}

/** The headers of a client's resume upgrade. */
export function resumeRequestHeaders(request: ResumeRequest): Record<string, string> {
  return {
    [SESSION_HEADER]: request.sessionKey,
    [RESUME_TOKEN_HEADER]: request.token,
    [RESUME_RECEIVED_HEADER]: String(request.received),
  };
}

/** What the server's 101 carries for a new tunnel, as raw header lines (ws's 'headers' event takes lines). */
export function offerResponseLines(offer: ResumeOffer): string[] {
  return [`${RESUME_TOKEN_HEADER}: ${offer.token}`, `${RESUME_WINDOW_HEADER}: ${offer.window}`, `${RESUME_TIMEOUT_HEADER}: ${offer.timeoutSec}`];
}

/** What the server's 101 carries for a resume. */
export function resumedResponseLines(received: number): string[] {
  return [`${RESUME_RECEIVED_HEADER}: ${received}`];
}

/**
 * What a client's upgrade asks for, read on the server: nothing (an old
 * client, or resume off on it: a plain tunnel), an offer (a session key
 * alone: a new resumable tunnel) or a resume (key, token and count). Throws
 * ResumeProtocolError on a malformed or partial set; the server refuses that
 * upgrade rather than guessing.
 */
export function parseUpgradeRequest(headers: Headers): { kind: 'none' } | { kind: 'offer'; sessionKey: string } | ({ kind: 'resume' } & ResumeRequest) {
  const key = single(SESSION_HEADER, headers[lower(SESSION_HEADER)]);
  const token = single(RESUME_TOKEN_HEADER, headers[lower(RESUME_TOKEN_HEADER)]);
  const received = single(RESUME_RECEIVED_HEADER, headers[lower(RESUME_RECEIVED_HEADER)]);
  if (key === undefined || key === '') {
    if (token !== undefined || received !== undefined) throw new ResumeProtocolError(SESSION_HEADER, `a resume needs ${SESSION_HEADER}`);
    return { kind: 'none' };
  }
  const sessionKey = parseSessionKey(key);
  if (token === undefined && received === undefined) return { kind: 'offer', sessionKey };
  if (token === undefined) throw new ResumeProtocolError(RESUME_TOKEN_HEADER, `a resume needs ${RESUME_TOKEN_HEADER}`);
  if (received === undefined) throw new ResumeProtocolError(RESUME_RECEIVED_HEADER, `a resume needs ${RESUME_RECEIVED_HEADER}`);
  return { kind: 'resume', sessionKey, token: parseResumeToken(token), received: parseCount(RESUME_RECEIVED_HEADER, received) };
}

/**
 * The server's offer on the 101 of a new tunnel, read on the client: none
 * (an old server, or resume off there) or the token, window and timeout.
 * Throws ResumeProtocolError on a malformed or partial offer (the client then
 * carries on without resume: the tunnel itself is fine).
 */
export function parseOfferResponse(headers: Headers): ResumeOffer | undefined {
  const token = single(RESUME_TOKEN_HEADER, headers[lower(RESUME_TOKEN_HEADER)]);
  if (token === undefined) return undefined;
  const window = single(RESUME_WINDOW_HEADER, headers[lower(RESUME_WINDOW_HEADER)]);
  const timeout = single(RESUME_TIMEOUT_HEADER, headers[lower(RESUME_TIMEOUT_HEADER)]);
  if (window === undefined) throw new ResumeProtocolError(RESUME_WINDOW_HEADER, `a resume offer needs ${RESUME_WINDOW_HEADER}`);
  if (timeout === undefined) throw new ResumeProtocolError(RESUME_TIMEOUT_HEADER, `a resume offer needs ${RESUME_TIMEOUT_HEADER}`);
  return {
    token: parseResumeToken(token),
    window: boundedCount(RESUME_WINDOW_HEADER, window, MIN_RESUME_WINDOW, MAX_RESUME_WINDOW, 'bytes'),
    timeoutSec: boundedCount(RESUME_TIMEOUT_HEADER, timeout, 1, MAX_RESUME_TIMEOUT_SEC, 'seconds'),
  };
}

/** The server's count on the 101 of a resume, read on the client. Throws ResumeProtocolError when missing or malformed. */
export function parseResumedResponse(headers: Headers): number {
  const received = single(RESUME_RECEIVED_HEADER, headers[lower(RESUME_RECEIVED_HEADER)]);
  if (received === undefined) throw new ResumeProtocolError(RESUME_RECEIVED_HEADER, `the resumed upgrade has no ${RESUME_RECEIVED_HEADER}`);
  return parseCount(RESUME_RECEIVED_HEADER, received);
}

/** The text frame acknowledging `received` bytes. */
export function ackMessage(received: number): string {
  return ACK_PREFIX + received;
}

/**
 * A text frame in resume mode: the count of an `ack`, or undefined for any
 * other text (reported as the peer's message, as without resume). An `ack`
 * that is malformed throws ResumeProtocolError: a peer that speaks the
 * extension wrongly is not to be trusted with the byte stream.
 */
export function parseAck(text: string): number | undefined {
  if (!text.startsWith(ACK_PREFIX)) return undefined;
  return parseCount('ack', text.slice(ACK_PREFIX.length));
}

/**
 * Whether two tokens are the same, in time that does not depend on where
 * they differ (a guesser learns nothing from the clock). Tokens of different
 * lengths differ; that the length is compared first tells only the length,
 * which is public (the header's format).
 */
export function tokensMatch(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  if (a.length !== b.length) return false;
  return crypto.timingSafeEqual(a, b);
}
