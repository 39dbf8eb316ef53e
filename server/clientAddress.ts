/**
 * Who the client is: the address that logs, per-client limits and the
 * failed-login backoff go by. Behind nginx the TCP peer is nginx itself, and
 * the client's address comes in X-Forwarded-For, which is believed only from
 * a proxy the admin trusts: anyone can write that header.
 */
import net from 'node:net';
import type http from 'node:http';
import { isLoopbackHost } from '../src/shared/endpoint';

/**
 * Which peers may set the client address through X-Forwarded-For: `loopback`
 * (nginx on this host), `always`, `never`, or a list of proxy addresses and
 * CIDR ranges (nginx on another host, several upstream hosts).
 */
export type TrustProxy = 'loopback' | 'always' | 'never' | readonly string[];

/** The default of `trustProxy` (`wssh server --trust-proxy`): nginx on this host. */
export const DEFAULT_TRUST_PROXY = 'loopback' satisfies TrustProxy;

/**
 * Parses `--trust-proxy`: a keyword, or a comma-separated list of addresses
 * and CIDR ranges (`10.0.0.5,10.1.0.0/16,fd00::/8`).
 *
 * @throws {Error} naming the entry that is not an address or range.
 */
export function parseTrustProxy(text: string): TrustProxy {
  if (text === 'loopback' || text === 'always' || text === 'never') return text;
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  // A word with no digit in it was meant as one of the keywords.
  if (entries.length === 0 || !/[\d:]/.test(text)) throw new Error('expected loopback, always, never');
  for (const entry of entries) blockEntry(entry);
  return entries;
}

export class ClientAddresses {
  private readonly trusted: (peer: string) => boolean;
  /** The proxies named in the --trust-proxy list; none for a keyword. */
  private readonly named: (address: string) => boolean = () => false;

  constructor(trust: TrustProxy = DEFAULT_TRUST_PROXY) {
    if (trust === 'always') this.trusted = () => true;
    else if (trust === 'never') this.trusted = () => false;
    else if (trust === 'loopback') this.trusted = isLoopbackHost;
    else {
      const list = new net.BlockList();
      for (const entry of trust) {
        const { address, prefix, family } = blockEntry(entry);
        if (prefix === undefined) list.addAddress(address, family);
        else list.addSubnet(address, prefix, family);
      }
      this.named = (address) => net.isIP(address) !== 0 && list.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
      this.trusted = this.named;
    }
  }

  /**
   * Whether a request is this host's own or a named proxy's own: its TCP
   * peer is loopback or in the --trust-proxy list (`always` names no one),
   * and so is every address it says it forwards for (X-Forwarded-For,
   * X-Real-IP, Forwarded's `for=`): a proxy passing on someone else's
   * request is not asking for itself. Forged headers can only refuse more.
   * For what only the gateway and its monitoring may read (/metrics).
   */
  insider(req: http.IncomingMessage): boolean {
    const own = (address: string) => isLoopbackHost(address) || this.named(address);
    if (!own(ClientAddresses.peer(req.socket))) return false;
    const header = (name: string) => [req.headers[name] ?? []].flat().join(',');
    const forwardedFor = [...header('forwarded').matchAll(/for=("?)\[?([^\]",;]*)/gi)].map((m) => m[2].replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1'));
    const claimed = [...`${header('x-forwarded-for')},${header('x-real-ip')}`.split(','), ...forwardedFor].map((a) => a.trim()).filter(Boolean);
    return claimed.every((address) => own(unmap(address)));
  }

  /** The TCP peer as a plain address: `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) is `192.0.2.1`. */
  static peer(socket: { remoteAddress?: string }): string {
    return unmap(socket.remoteAddress ?? '');
  }

  /** The client's address for a request. */
  of(req: http.IncomingMessage): string {
    const peer = ClientAddresses.peer(req.socket);
    const forwarded = req.headers['x-forwarded-for'];
    if (typeof forwarded !== 'string' || !this.trusted(peer)) return peer;
    // nginx's $proxy_add_x_forwarded_for appends the address it saw last: the
    // rightmost entry is the one our trusted proxy vouches for.
    const last = unmap(forwarded.split(',').pop()!.trim());
    return net.isIP(last) ? last : peer;
  }
}

function unmap(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

function blockEntry(entry: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } {
  const [address, bits, extra] = entry.split('/');
  const version = net.isIP(address);
  const max = version === 6 ? 128 : 32;
  const prefix = bits === undefined ? undefined : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (version === 0 || extra !== undefined || (prefix !== undefined && !(prefix >= 0 && prefix <= max))) {
    throw new Error(`"${entry}" is not an IP address or CIDR range (like 10.0.0.5 or 10.0.0.0/8)`);
  }
  return { address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' };
}
