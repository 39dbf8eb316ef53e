/**
 * The SOCKS reply codes and reply messages, apart from the handshake so that
 * the refusal table (refusals.ts) can name its SOCKS5 reply without importing
 * the handshake that imports the table.
 */

/** SOCKS5 reply codes (RFC 1928 §6). */
export const Socks5Reply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

/** SOCKS4 reply codes: it has one refusal for everything. */
export const Socks4Reply = { granted: 0x5a, rejected: 0x5b } as const;

const ATYP_IPV4 = 0x01;

/** The SOCKS5 reply for `code`, with 0.0.0.0:0 as the bound address (clients ignore it; there is none to give). */
export function socks5Reply(code: number): Buffer {
  return Buffer.from([0x05, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0]);
}

export function socks4Reply(code: number): Buffer {
  return Buffer.from([0x00, code, 0, 0, 0, 0, 0, 0]);
}
