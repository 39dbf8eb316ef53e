/**
 * The certificate chain an endpoint presented, read for a person: who the
 * certificate is for, who issued it, whether that issuer is the one this
 * endpoint trusts (its CA file, its profile's CA) and whether the leaf is
 * the pinned one, and a plain statement when the issuer looks like a
 * middlebox's own: a corporate proxy, firewall or antivirus that inspects
 * TLS re-signs every site with a CA of its own, which the machine trusts.
 */
import crypto from 'node:crypto';
import { summarizeX509, type CertificateSummary } from '../dial/profile';
import { parsePin, type TrustOptions } from '../dial/trust/trust';

/** Names that the CAs of TLS-inspecting products carry in their subject (issuer of the re-signed certificates). */
const INSPECTION_ISSUERS =
  /zscaler|netskope|forti(gate|net)|palo ?alto|blue ?coat|forcepoint|websense|sophos|cisco umbrella|mcafee web|skyhigh|kaspersky|eset ssl|avast|\bavg\b|bitdefender|check ?point|barracuda|menlo|iboss|lightspeed|securly|smoothwall|untangle|inspect|interception|ssl[- ]?proxy|tls[- ]?proxy|decrypt/i;

export interface ChainFacts {
  /** The presented certificates, the endpoint's own first. */
  certificates: CertificateSummary[];
  /** The endpoint's certificate's subject and issuer as short names (CN, else O, else the whole). */
  subject: string;
  issuer: string;
  /** The endpoint's certificate is one of the pins (undefined: no pin set). */
  pinned?: boolean;
  /** Some certificate of the chain is a CA the endpoint trusts, or issued by one (undefined: no CA set). */
  fromTrustedCa?: boolean;
  /** Why the certificate looks re-signed by a middlebox, in words; undefined when nothing says so. */
  inspection?: string;
}

/** What the chain `raw` (DER, leaf first) says, against the endpoint's trust settings. */
export function chainFacts(raw: Buffer[], trust: TrustOptions = {}): ChainFacts | undefined {
  const chain = raw.flatMap((der) => {
    try {
      return [new crypto.X509Certificate(der)];
    } catch {
      return [];
    }
  });
  const leaf = chain[0];
  if (!leaf) return undefined;
  const facts: ChainFacts = { certificates: chain.map(summarizeX509), subject: shortName(leaf.subject), issuer: shortName(leaf.issuer) };
  const pins = [trust.pin ?? []].flat().flatMap((pin) => {
    try {
      return [parsePin(pin)];
    } catch {
      return [];
    }
  });
  if (pins.length > 0) {
    const fingerprint = crypto.createHash('sha256').update(leaf.raw).digest();
    facts.pinned = pins.some((pin) => pin.equals(fingerprint));
  }
  const cas = trustedCas(trust);
  if (cas.length > 0) facts.fromTrustedCa = chain.some((cert) => cas.some((ca) => cert.fingerprint256 === ca.fingerprint256 || issuedBy(cert, ca)));
  facts.inspection = inspectionSign(facts, chain);
  return facts;
}

function inspectionSign(facts: ChainFacts, chain: crypto.X509Certificate[]): string | undefined {
  const issuers = chain.map((cert) => cert.issuer).join(' ');
  if (INSPECTION_ISSUERS.test(issuers)) return `its issuer, ${facts.issuer}, is the kind of CA that TLS-inspecting proxies, firewalls and antivirus use`;
  if (facts.fromTrustedCa === false) return `it was issued by ${facts.issuer}, not by the CA this endpoint trusts`;
  // Not the pinned one, yet from the endpoint's own CA: a renewed certificate, not a middlebox's.
  if (facts.pinned === false && facts.fromTrustedCa !== true) return `it is not the pinned certificate, and was issued by ${facts.issuer}`;
  return undefined;
}

/** `cert` names `ca` as its issuer and carries its signature (two CAs may have the same name). */
function issuedBy(cert: crypto.X509Certificate, ca: crypto.X509Certificate): boolean {
  try {
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** The CA certificates the endpoint's settings add (a CA file, a profile's CAs), parsed. */
function trustedCas(trust: TrustOptions): crypto.X509Certificate[] {
  const pems = [trust.ca ?? []].flat().flatMap((text) => String(text).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []);
  return pems.flatMap((pem) => {
    try {
      return [new crypto.X509Certificate(pem)];
    } catch {
      return [];
    }
  });
}

/** `CN=gw.example.com` from a distinguished name (one attribute a line, as Node gives it); O when there is no CN. */
export function shortName(dn: string): string {
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(dn)?.[1]?.trim();
  const cn = field('CN');
  if (cn) return `CN=${cn}`;
  const o = field('O');
  return o ? `O=${o}` : dn.replace(/\n/g, ', ');
}
