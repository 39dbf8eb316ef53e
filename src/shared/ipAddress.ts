/**
 * IP address literals, for code that runs in Node and in the page alike:
 * the same answers as `node:net`'s isIPv4 / isIPv6 / isIP, written out
 * because the renderer has no `node:net`. The patterns are Node's own
 * (lib/internal/net.js), so a host the policy or the parser treats as an
 * address here is one to Node's sockets too; test/shared/ipAddress.test.ts
 * compares the two on every input it generates.
 */

const V4_SEG = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const V4 = `(?:${V4_SEG}\\.){3}${V4_SEG}`;
const V6_SEG = '(?:[0-9a-fA-F]{1,4})';

const IPV4 = new RegExp(`^${V4}$`);
// Every way to write 8 groups with at most one "::", an IPv4 tail for the
// last 32 bits, and an optional zone (`%eth0`, `%12`).
const IPV6 = new RegExp(
  '^(?:' +
    `(?:${V6_SEG}:){7}(?:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){6}(?:${V4}|:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){5}(?::${V4}|(?::${V6_SEG}){1,2}|:)|` +
    `(?:${V6_SEG}:){4}(?:(?::${V6_SEG}){0,1}:${V4}|(?::${V6_SEG}){1,3}|:)|` +
    `(?:${V6_SEG}:){3}(?:(?::${V6_SEG}){0,2}:${V4}|(?::${V6_SEG}){1,4}|:)|` +
    `(?:${V6_SEG}:){2}(?:(?::${V6_SEG}){0,3}:${V4}|(?::${V6_SEG}){1,5}|:)|` +
    `(?:${V6_SEG}:){1}(?:(?::${V6_SEG}){0,4}:${V4}|(?::${V6_SEG}){1,6}|:)|` +
    `(?::(?:(?::${V6_SEG}){0,5}:${V4}|(?::${V6_SEG}){1,7}|:))` +
    ')(?:%[0-9a-zA-Z-.:]{1,})?$',
);

/** Four decimal numbers 0-255 without leading zeros, as `net.isIPv4`. */
export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/** An IPv6 address without brackets, zone allowed, as `net.isIPv6`. */
export function isIPv6(text: string): boolean {
  return IPV6.test(text);
}

/** 4, 6, or 0 for anything else (a host name), as `net.isIP`. */
export function isIP(text: string): 0 | 4 | 6 {
  return isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
}

/**
 * An IPv6 address (no brackets, no zone) in its RFC 5952 form: lower case, the
 * longest run of zeros as "::", an IPv4 tail as hex (`::ffff:7f00:1`). The
 * WHATWG URL parser writes IPv6 hosts that way, in Node and in the page.
 */
export function canonicalIPv6(addr: string): string {
  return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
}
