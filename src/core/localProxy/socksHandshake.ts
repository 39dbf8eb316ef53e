/**
 * The server side of the SOCKS handshakes that the local proxy answers on its
 * one port, beside HTTP CONNECT: SOCKS5 (RFC 1928) without authentication
 * and the CONNECT command, with a domain name, IPv4 or IPv6 address; and
 * SOCKS4 with its 4a extension (a domain name after the user id). PuTTY,
 * plink, WinSCP and `ssh -o ProxyCommand='nc -X 5 …'` speak them.
 *
 * No library does this side well (`socks` is a client; `socksv5` has not
 * been kept up for years), so it is written here, small: every field has a
 * byte limit, the whole handshake a deadline, and anything unexpected gets
 * the protocol's refusal and a closed socket.
 *
 *   SOCKS5 greeting   05 NMETHODS METHODS…             -> 05 00 (no auth) | 05 FF (none acceptable)
 *   SOCKS5 request    05 CMD 00 ATYP DST.ADDR DST.PORT -> 05 REP 00 01 0.0.0.0 0
 *   SOCKS4(a) request 04 CMD DST.PORT DST.IP USERID 00 [HOST 00] -> 00 5A|5B 0 0 0 0 0 0
 */
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { Target, TargetError, parseTarget } from '../../shared/target';
import { REFUSALS, RefusalError, type RefusalCode, type RefusalErrorOptions } from '../tunnel/refusals';
import { Socks4Reply, Socks5Reply, socks4Reply, socks5Reply } from '../tunnel/socksReplies';

export { Socks4Reply, Socks5Reply, socks4Reply, socks5Reply };

export type SocksVersion = 4 | 5;

export interface SocksRequest {
  version: SocksVersion;
  /** Where the client wants to go: a name as sent (SOCKS5 domain, SOCKS4a) or an address. */
  target: Target;
  /** SOCKS4's user id, for the log at most; SOCKS5 has none here. */
  userId?: string;
  /** Bytes the client sent after its request, to forward first. */
  rest: Buffer;
}

/**
 * A handshake that cannot go on: a refusal (refusals.ts), whose HTTP status
 * the tunnel log shows, and `reply`, what the client is told before the
 * socket is closed (none when it would not understand one).
 */
export class SocksError extends RefusalError {
  override name = 'SocksError';
  /** The bytes answered to the client before the socket is closed; none when it would not understand one. */
  readonly reply?: Buffer;

  constructor(refusal: RefusalCode, message: string, options: RefusalErrorOptions & { reply?: Buffer } = {}) {
    super(refusal, message, options);
    this.reply = options.reply;
  }
}

const NO_AUTHENTICATION = 0x00;
const NO_ACCEPTABLE_METHOD = 0xff;
const CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;
/** SOCKS4's user id and 4a's host name are NUL-terminated: this bounds each. */
const MAX_SOCKS4_FIELD = 255;

/** The reply that opens the tunnel. */
export function socksSuccess(version: SocksVersion): Buffer {
  return version === 5 ? socks5Reply(Socks5Reply.succeeded) : socks4Reply(Socks4Reply.granted);
}

/**
 * The refusal for a tunnel that could not open: the SOCKS5 reply of its code
 * in the refusal table (a denial is "not allowed by ruleset", unreachable
 * "host unreachable", a timeout "TTL expired", SOCKS5's word for it). SOCKS4
 * has one refusal.
 */
export function socksFailure(version: SocksVersion, code: RefusalCode): Buffer {
  if (version === 4) return socks4Reply(Socks4Reply.rejected);
  return socks5Refusal(code);
}

/** A request-phase SOCKS5 refusal for `code`. */
function socks5Refusal(code: RefusalCode): Buffer {
  return socks5Reply(REFUSALS[code].socks5);
}

/** `buf` holds a whole SOCKS5 greeting: the methods offered and its length; undefined: more bytes needed. */
export function parseSocks5Greeting(buf: Buffer): { methods: number[]; length: number } | undefined {
  if (buf.length < 2) return undefined;
  if (buf[0] !== 0x05) throw new SocksError('malformed', `not a SOCKS5 greeting (version ${buf[0]})`);
  const count = buf[1];
  if (count === 0)
    throw new SocksError('socks-method', 'SOCKS5 greeting offers no authentication method', { reply: Buffer.from([0x05, NO_ACCEPTABLE_METHOD]) });
  if (buf.length < 2 + count) return undefined;
  return { methods: [...buf.subarray(2, 2 + count)], length: 2 + count };
}

/**
 * `buf` holds a whole SOCKS5 request: the target and its length; undefined:
 * more bytes needed.
 *
 * @throws {SocksError} with the reply for a command other than CONNECT, an
 *   unknown address type, or a target that is no host name or address.
 */
export function parseSocks5Request(buf: Buffer): { target: Target; length: number } | undefined {
  if (buf.length < 5) return undefined;
  if (buf[0] !== 0x05) {
    throw new SocksError('malformed', `malformed SOCKS5 request (version ${buf[0]})`, { reply: socks5Refusal('malformed') });
  }
  const command = buf[1];
  const atyp = buf[3];
  let hostEnd: number;
  switch (atyp) {
    case ATYP_IPV4:
      hostEnd = 4 + 4;
      break;
    case ATYP_IPV6:
      hostEnd = 4 + 16;
      break;
    case ATYP_DOMAIN:
      if (buf[4] === 0) throw new SocksError('bad-target', 'SOCKS5 request with an empty host name', { reply: socks5Refusal('bad-target') });
      hostEnd = 5 + buf[4];
      break;
    default:
      throw new SocksError('address-type', `SOCKS5 address type ${atyp} is not supported`, { reply: socks5Refusal('address-type') });
  }
  // The command is judged after the address type, which says how long the
  // request is, but before waiting for the rest: the answer is no either way.
  if (command !== CONNECT) {
    const name = command === 0x02 ? 'BIND' : command === 0x03 ? 'UDP ASSOCIATE' : `command ${command}`;
    throw new SocksError('not-connect', `SOCKS5 ${name} is not supported: this proxy only tunnels CONNECT`, { reply: socks5Refusal('not-connect') });
  }
  if (buf.length < hostEnd + 2) return undefined;
  const port = buf.readUInt16BE(hostEnd);
  let host: string;
  if (atyp === ATYP_IPV4) host = [...buf.subarray(4, 8)].join('.');
  else if (atyp === ATYP_IPV6) host = ipv6Text(buf.subarray(4, 20));
  else host = buf.toString('latin1', 5, hostEnd);
  return { target: socksTarget(host, port, 5), length: hostEnd + 2 };
}

/**
 * `buf` holds a whole SOCKS4 or SOCKS4a request; undefined: more bytes needed.
 *
 * @throws {SocksError}
 */
export function parseSocks4Request(buf: Buffer): { target: Target; userId: string; length: number } | undefined {
  const rejected = socks4Reply(Socks4Reply.rejected);
  if (buf.length < 2) return undefined;
  if (buf[0] !== 0x04) throw new SocksError('malformed', `not a SOCKS4 request (version ${buf[0]})`);
  if (buf[1] !== CONNECT) {
    const name = buf[1] === 0x02 ? 'BIND' : `command ${buf[1]}`;
    throw new SocksError('not-connect', `SOCKS4 ${name} is not supported: this proxy only tunnels CONNECT`, { reply: rejected });
  }
  if (buf.length < 9) return undefined;
  const port = buf.readUInt16BE(2);
  const ip = buf.subarray(4, 8);
  const userEnd = nulAt(buf, 8, 'user id');
  if (userEnd < 0) return undefined;
  const userId = buf.toString('latin1', 8, userEnd);
  // SOCKS4a: an address 0.0.0.x (x ≠ 0) means "the host name follows".
  if (ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0) {
    const hostEnd = nulAt(buf, userEnd + 1, 'host name');
    if (hostEnd < 0) return undefined;
    const host = buf.toString('latin1', userEnd + 1, hostEnd);
    if (host === '') throw new SocksError('bad-target', 'SOCKS4a request with an empty host name', { reply: rejected });
    return { target: socksTarget(host, port, 4), userId, length: hostEnd + 1 };
  }
  return { target: socksTarget([...ip].join('.'), port, 4), userId, length: userEnd + 1 };
}

export interface ReadSocksOptions {
  /** How long the whole handshake may take, in ms. */
  timeoutMs: number;
  /**
   * The proxy's own credential: SOCKS5 must then authenticate with it (user
   * name and password, RFC 1929); SOCKS4 has no password and is refused.
   * @default none: no authentication
   */
  credential?: ProxyCredential;
}

/** A user name and password the local proxy asks its clients for. */
export interface ProxyCredential {
  user: string;
  password: string;
}

/** RFC 1929: the user name / password method. */
const USER_PASSWORD = 0x02;

/** Whether `given` is `credential`, compared in constant time. */
export function credentialMatches(credential: ProxyCredential, user: string, password: string): boolean {
  const a = Buffer.from(`${credential.user}\0${credential.password}`);
  const b = Buffer.from(`${user}\0${password}`);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Runs the handshake on `socket`, whose first byte (still unread) said SOCKS:
 * for SOCKS5 it answers the greeting, then reads the request. Resolves with
 * the request, the socket paused; the caller answers it (socksSuccess or
 * socksFailure). On a bad handshake it has already replied, when the
 * protocol has a reply for it, and destroyed the socket.
 *
 * @throws {SocksError}
 */
export function readSocksRequest(socket: Socket, options: ReadSocksOptions): Promise<SocksRequest> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let version: SocksVersion | undefined;
    let greeted = false;
    let authenticated = options.credential === undefined;
    const finish = (err: SocksError | undefined, request?: SocksRequest) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
      if (err) {
        if (err.reply && socket.writable) {
          socket.once('finish', () => socket.destroy());
          socket.end(err.reply);
        } else {
          socket.destroy();
        }
        reject(err);
      } else {
        socket.pause();
        resolve(request!);
      }
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        step();
      } catch (err) {
        if (err instanceof SocksError) finish(err);
        else throw err;
      }
    };
    const step = () => {
      version ??= buf[0] === 0x05 ? 5 : buf[0] === 0x04 ? 4 : undefined;
      if (version === undefined) throw new SocksError('malformed', `not a SOCKS request (first byte ${buf[0]})`);
      if (version === 4) {
        if (options.credential) {
          throw new SocksError('proxy-auth', 'SOCKS4 has no password and this proxy needs one: use SOCKS5 or HTTP with the proxy user name and password', {
            reply: socks4Reply(Socks4Reply.rejected),
          });
        }
        const request = parseSocks4Request(buf);
        if (request) finish(undefined, { version, target: request.target, userId: request.userId, rest: buf.subarray(request.length) });
        return;
      }
      if (!greeted) {
        const greeting = parseSocks5Greeting(buf);
        if (!greeting) return;
        if (options.credential) {
          if (!greeting.methods.includes(USER_PASSWORD)) {
            throw new SocksError('proxy-auth', 'this proxy needs a user name and password: set them in the SOCKS client', {
              reply: Buffer.from([0x05, NO_ACCEPTABLE_METHOD]),
            });
          }
          greeted = true;
          socket.write(Buffer.from([0x05, USER_PASSWORD]));
          buf = buf.subarray(greeting.length);
        } else if (!greeting.methods.includes(NO_AUTHENTICATION)) {
          throw new SocksError('socks-method', 'the SOCKS5 client offers no method without authentication: leave the proxy user name and password empty', {
            reply: Buffer.from([0x05, NO_ACCEPTABLE_METHOD]),
          });
        } else {
          greeted = true;
          socket.write(Buffer.from([0x05, NO_AUTHENTICATION]));
          buf = buf.subarray(greeting.length);
        }
      }
      if (!authenticated) {
        // RFC 1929: 01 ULEN UNAME PLEN PASSWD -> 01 00 (success) or 01 01 and close.
        if (buf.length < 2) return;
        const userEnd = 2 + buf[1];
        if (buf.length < userEnd + 1) return;
        const passEnd = userEnd + 1 + buf[userEnd];
        if (buf.length < passEnd) return;
        const ok = buf[0] === 0x01 && credentialMatches(options.credential!, buf.toString('utf8', 2, userEnd), buf.toString('utf8', userEnd + 1, passEnd));
        if (!ok) throw new SocksError('proxy-auth', 'wrong SOCKS5 user name or password for this proxy', { reply: Buffer.from([0x01, 0x01]) });
        authenticated = true;
        socket.write(Buffer.from([0x01, 0x00]));
        buf = buf.subarray(passEnd);
      }
      const request = parseSocks5Request(buf);
      if (request) finish(undefined, { version, target: request.target, rest: buf.subarray(request.length) });
    };
    const onEnd = () => finish(new SocksError('malformed', 'the client closed the connection during the SOCKS handshake'));
    const timer = setTimeout(() => {
      const reply = version === 4 ? socks4Reply(Socks4Reply.rejected) : greeted ? socks5Refusal('handshake-timeout') : undefined;
      finish(new SocksError('handshake-timeout', 'the SOCKS request did not arrive in time', { reply }));
    }, options.timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
    socket.resume();
  });
}

/** The index of the NUL that ends a SOCKS4 field starting at `from`, -1 if not here yet. */
function nulAt(buf: Buffer, from: number, what: string): number {
  const end = buf.indexOf(0, from);
  const limit = from + MAX_SOCKS4_FIELD;
  if (end >= 0 && end <= limit) return end;
  if (buf.length > limit)
    throw new SocksError('malformed', `SOCKS4 ${what} longer than ${MAX_SOCKS4_FIELD} bytes`, { reply: socks4Reply(Socks4Reply.rejected) });
  return -1;
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':'); // parseTarget puts it in canonical form
}

/** The target, checked the same way as an HTTP CONNECT's. */
function socksTarget(host: string, port: number, version: SocksVersion): Target {
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  try {
    if (port === 0) throw new TargetError('port 0');
    return parseTarget(net.isIPv6(unbracketed) ? `[${unbracketed}]:${port}` : `${host}:${port}`);
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
    const reply = version === 5 ? socks5Refusal('bad-target') : socks4Reply(Socks4Reply.rejected);
    throw new SocksError('bad-target', `bad SOCKS${version} target: ${err.message}`, { reply });
  }
}
