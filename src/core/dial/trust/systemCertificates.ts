/**
 * The operating system's trust store, for endpoints whose certificate comes
 * from a CA that the system trusts but Node's bundled (Mozilla) list does
 * not: a company CA rolled out to every machine, a TLS-intercepting proxy's
 * CA.
 *
 * Node 22.15+ and 23.5+ read the store themselves
 * (`tls.getCACertificates('system')`). On older Node (20 here) the
 * `system-ca` library does it: on Linux it reads the usual bundle files and
 * directories (honouring SSL_CERT_FILE and SSL_CERT_DIR), on Windows and
 * macOS it needs its optional native helper. Where neither works, the
 * error says so and hints at the remedy (configErrors.ts): the CA given
 * itself, or a Node that reads the store; the CLI and the tray app each say
 * how with their own names.
 */
import fs from 'node:fs';
import tls from 'node:tls';
import type * as SystemCa from 'system-ca';
import { ConfigError } from '../../tunnel/configErrors';

/** The store asked for (`TrustOptions.systemCa`) cannot be used here. */
export class SystemCertificatesError extends ConfigError {
  override name = 'SystemCertificatesError';
}

type CertificateSource = 'default' | 'system' | 'bundled' | 'extra';
/** Node 22.15+ / 23.5+; not in Node 20's types. */
const getCACertificates = (tls as { getCACertificates?: (type?: CertificateSource) => string[] }).getCACertificates;

let cached: Promise<string[]> | undefined;

/**
 * The PEM certificates of the system's trust store, read once per process.
 *
 * @throws {SystemCertificatesError} when the store cannot be read here.
 */
export function systemCertificates(): Promise<string[]> {
  cached ??= readSystemCertificates().catch((err) => {
    cached = undefined; // a later call may try again
    throw err;
  });
  return cached;
}

async function readSystemCertificates(): Promise<string[]> {
  let certs: string[];
  try {
    // system-ca only when asked: most processes never read the system store.
    certs = getCACertificates ? getCACertificates('system') : await (require('system-ca') as typeof SystemCa).systemCertsAsync();
  } catch (err) {
    const why = `cannot read the operating system's certificate store (${(err as Error).message}) on Node ${process.version}`;
    throw new SystemCertificatesError('systemCa', 'add-ca-or-newer-node', why);
  }
  if (certs.length === 0) throw new SystemCertificatesError('systemCa', 'add-ca', "the operating system's certificate store is empty");
  return certs;
}

/**
 * The certificates Node trusts when no `ca` option is given: its bundled
 * list plus NODE_EXTRA_CA_CERTS (and the system store when Node runs with
 * --use-system-ca or --use-openssl-ca, on versions that say so). A `ca`
 * option replaces this set, so adding a CA means listing these too.
 */
export function defaultCertificates(): readonly string[] {
  if (getCACertificates) return getCACertificates('default');
  return [...tls.rootCertificates, ...extraCertificates()];
}

let extra: string[] | undefined;

/** NODE_EXTRA_CA_CERTS as Node 20 read it at start (it has no API to ask). */
function extraCertificates(): string[] {
  if (extra) return extra;
  extra = [];
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (file) {
    try {
      extra = splitPem(fs.readFileSync(file, 'utf8'));
    } catch {
      // Node warned about an unreadable file at start; it trusts none of it either.
    }
  }
  return extra;
}

/** The certificates of a PEM bundle, each with its BEGIN/END lines. */
function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
