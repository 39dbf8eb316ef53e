/**
 * The tunnel target: which host and port a client asks the server to reach.
 *
 * On the wire (DESIGN.md, "Wire contract") the target is the last path
 * segment of the tunnel URL: the bare host for port 22, exactly as the
 * original wssh clients send it (`/ssh/db1.lan`), or `host:port` with IPv6
 * in brackets (`/ssh/[::1]:2222`). Old clients may also send a bare,
 * unbracketed IPv6 address (`/ssh/::1`), which means port 22.
 *
 * Every name has one spelling here, so a policy rule written for a name
 * cannot be sidestepped by asking for the same host spelled differently:
 * IPv6 addresses are put in their canonical form (`0:0::1` becomes `::1`),
 * numeric IPv4 shorthands that resolvers accept (`127.1`, `0x7f.0.0.1`,
 * `2130706433`) are refused, and so are empty labels (`a..b`, `db1.`).
 * An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is its IPv4 address;
 * zone ids (`fe80::1%eth0`, `::1%lo`) and the unspecified addresses
 * (`0.0.0.0` and the rest of 0.0.0.0/8, `::`), which the kernel takes for
 * "this host", are refused.
 *
 * Pure string handling, no I/O: shared by the server and the clients.
 */
import { canonicalIPv6, isIPv4, isIPv6 } from './ipAddress';

export interface Target {
  /** Host name, IPv4 address, or IPv6 address without brackets. */
  host: string;
  /** TCP port, 1-65535. */
  port: number;
}

/** The port a target without one means: SSH. */
export const DEFAULT_PORT = 22;

/** Thrown for a target that is not `host`, `host:port` or `[ipv6]:port`. */
export class TargetError extends Error {
  override name = 'TargetError';
}

// Letters, digits, '-', '_' in dot-separated labels: laxer than RFC 1123
// (underscores occur in real internal names and resolvers accept them).
const HOST_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
// A label that inet_aton() reads as a number: decimal, octal (leading 0)
// or hex (0x). A name made only of such labels is an IPv4 address to
// getaddrinfo(), whatever it looks like.
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|[0-9]+)$/i;
// DNS limits (RFC 1035 section 2.3.4).
const MAX_NAME = 253;
const MAX_LABEL = 63;

/**
 * Parses a target, as percent-decoded from the tunnel URL's last path
 * segment, into host and port (22 when none is given).
 *
 * @throws {TargetError} saying what is wrong with it.
 */
export function parseTarget(segment: string): Target {
  const { host, port } = parseHostPort(segment);
  return { host, port: port ?? DEFAULT_PORT };
}

/**
 * Like {@link parseTarget}, but leaves `port` undefined when the text names
 * none, for callers that must tell "no port" from "port 22" (a hosts.yml
 * mapping keeps the requested port unless it names one).
 *
 * @throws {TargetError}
 */
export function parseHostPort(text: string): { host: string; port?: number } {
  if (text === '') throw new TargetError('empty host');

  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new TargetError(`missing "]" in "${text}"`);
    const host = checkIPv6(text.slice(1, close), text);
    const rest = text.slice(close + 1);
    if (rest === '') return { host };
    if (!rest.startsWith(':')) {
      throw new TargetError(`unexpected "${rest}" after "]" in "${text}"; expected ":port"`);
    }
    return { host, port: parsePort(rest.slice(1)) };
  }

  const colon = text.indexOf(':');
  if (colon < 0) return { host: checkHostName(text) };
  // More than one colon without brackets: old clients send IPv6 this way.
  // The whole text is then the address (port 22), since a port could not be
  // told apart from the address's last group.
  if (text.indexOf(':', colon + 1) >= 0) return { host: checkIPv6(text, text) };

  const name = text.slice(0, colon);
  if (name === '') throw new TargetError('empty host');
  return { host: checkHostName(name), port: parsePort(text.slice(colon + 1)) };
}

/**
 * The target as a name: the bare host for port 22 (what old clients send
 * and what hosts.yml keys are written as), `host:port` otherwise, with an
 * IPv6 host in brackets when a port follows.
 */
export function formatTarget(t: Target): string {
  if (t.port === DEFAULT_PORT) return t.host;
  return isIPv6(t.host) ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

function parsePort(text: string): number {
  if (text === '') throw new TargetError('empty port');
  if (!/^[0-9]+$/.test(text)) throw new TargetError(`port "${text}" is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new TargetError(`port "${text}" is out of range 1-65535`);
  return port;
}

function checkHostName(name: string): string {
  if (name === '') throw new TargetError('empty host');
  if (isIPv4(name)) return checkIPv4(name);
  if (!HOST_NAME.test(name)) {
    // One spelling per name: "db1.lan." would dodge a rule for "db1.lan".
    if (name.endsWith('.') && HOST_NAME.test(name.slice(0, -1))) {
      throw new TargetError(`invalid host name "${name}": remove the trailing "."`);
    }
    throw new TargetError(`invalid host name "${name}"`);
  }
  // A leading '-' reads as an option to any command line the name may reach.
  if (name.startsWith('-')) throw new TargetError(`invalid host name "${name}": starts with "-"`);
  const labels = name.split('.');
  if (labels.every((l) => NUMERIC_LABEL.test(l))) {
    throw new TargetError(`invalid host name "${name}": looks like an IPv4 address; write it as four decimal numbers (a.b.c.d)`);
  }
  if (name.length > MAX_NAME) throw new TargetError(`host name is longer than ${MAX_NAME} characters`);
  if (labels.some((l) => l.length > MAX_LABEL)) {
    throw new TargetError(`invalid host name "${name}": a label is longer than ${MAX_LABEL} characters`);
  }
  return name;
}

function checkIPv4(addr: string): string {
  // connect() to 0.0.0.0 (and, on some systems, to any 0.x.y.z) reaches this host.
  if (addr.startsWith('0.')) throw new TargetError(`"${addr}" is an unspecified address (0.0.0.0/8), not a host`);
  return addr;
}

/** An IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2) in canonical form: `::ffff:a.b.c.d` or `::ffff:XXXX:XXXX`. */
const MAPPED_IPV4 = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/;

function checkIPv6(addr: string, text: string): string {
  if (addr === '') throw new TargetError(`empty IPv6 address in "${text}"`);
  if (addr.includes('%')) {
    throw new TargetError(`"${addr}" has a zone id: write the address without "%…" (zones are refused)`);
  }
  if (!isIPv6(addr)) throw new TargetError(`invalid IPv6 address "${addr}"`);
  const canonical = canonicalIPv6(addr);
  if (canonical === '::') throw new TargetError(`"${addr}" is the unspecified address, not a host`);
  const mapped = MAPPED_IPV4.exec(canonical);
  if (mapped) {
    // One spelling per host: ::ffff:127.0.0.1 is 127.0.0.1.
    if (mapped[1]) return checkIPv4(mapped[1]);
    const hi = parseInt(mapped[2], 16);
    const lo = parseInt(mapped[3], 16);
    return checkIPv4(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return canonical;
}
