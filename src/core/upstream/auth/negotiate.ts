/**
 * Negotiate (SPNEGO, RFC 4559) for a proxy's 407, through the `kerberos`
 * native module: GSSAPI on Linux and macOS (the ticket `kinit` or the
 * desktop's sign-in put in the credentials cache), SSPI's "Negotiate"
 * package on Windows (the signed-in user's logon session: Kerberos, or NTLM
 * inside SPNEGO where the proxy accepts that; no password is typed).
 *
 * The service is `HTTP@<proxy host as configured>` (`HTTP/…` for SSPI): Kerberos names the
 * proxy's key by the name the client used, so a proxy given as 127.0.0.1 is
 * looked up as HTTP/127.0.0.1 and a CNAME is not followed. A context is good
 * for one connection (the proxy's replay cache refuses a token twice), so
 * each connection gets a new client.
 */
import path from 'node:path';

/**
 * The part of the `kerberos` package this file uses, written here rather than
 * imported from its types: the package is an optional dependency (a native
 * module that needs libkrb5-dev and a compiler, or a prebuilt binary that a
 * firewalled network cannot download), and the build must not need it.
 */
interface KerberosModule {
  GSS_MECH_OID_SPNEGO: number;
  initializeClient(service: string, options: { mechOID: number }): Promise<KerberosClient>;
}
interface KerberosClient {
  step(challenge: string): Promise<string>;
}

/** Negotiate cannot be tried: the native module is missing or broken. */
export class NegotiateUnavailable extends Error {
  override name = 'NegotiateUnavailable';
}

/** GSSAPI/SSPI could not make a token: no ticket, or none for this service. */
export class NoKerberosTicket extends Error {
  override name = 'NoKerberosTicket';
  constructor(
    message: string,
    /** What GSSAPI or SSPI said, for a person who knows Kerberos. */
    readonly detail: string,
  ) {
    super(message);
  }
}

let loaded: { module?: KerberosModule; reason?: string } | undefined;

/**
 * The `kerberos` module, loaded once; `NegotiateUnavailable` with the reason
 * when it cannot load (not installed, built for another Node, libgssapi
 * missing). `onFirstFailure` hears the reason once per process, so a log
 * says it once rather than at every tunnel.
 */
export function loadKerberos(onFirstFailure?: (reason: string) => void, name = 'kerberos'): KerberosModule {
  if (!loaded || name !== 'kerberos') {
    let state: typeof loaded;
    try {
      state = { module: require(name) as KerberosModule };
    } catch (err) {
      const reason = loadFailure(name, err as NodeJS.ErrnoException);
      state = { reason };
      onFirstFailure?.(reason);
    }
    if (name !== 'kerberos') {
      if (state.module) return state.module;
      throw new NegotiateUnavailable(state.reason!);
    }
    loaded = state;
  }
  if (loaded.module) return loaded.module;
  throw new NegotiateUnavailable(loaded.reason!);
}

/**
 * Why the module did not load, in words. The package swallows the error of
 * its Release binary (a dlopen failure: built for another platform, a
 * missing libgssapi) and rethrows "Cannot find module …/Debug/kerberos.node";
 * the binary's own error is the one worth telling, so it is asked for again.
 */
function loadFailure(name: string, e: NodeJS.ErrnoException): string {
  if (e.code !== 'MODULE_NOT_FOUND') return `the ${name} module did not load: ${firstLine(e.message)}`;
  if (!/\.node\b/.test(e.message))
    return `the ${name} module is not installed (it is optional: npm install ${name}, which builds with libkrb5-dev and a C++ compiler on Linux)`;
  try {
    const binary = path.join(path.dirname(require.resolve(`${name}/package.json`)), 'build', 'Release', 'kerberos.node');
    require(binary);
  } catch (inner) {
    const code = (inner as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND')
      return `the ${name} module has no native binary (it was not built: npm rebuild ${name}, with libkrb5-dev and a C++ compiler on Linux)`;
    return `the ${name} module's native binary did not load: ${firstLine((inner as Error).message)}`;
  }
  return `the ${name} module did not load: ${firstLine(e.message)}`;
}

/** One connection's Negotiate context. */
export interface NegotiateContext {
  /** The first token: from the ticket for the service. @throws {NoKerberosTicket} */
  initial(): Promise<string>;
  /** The next token, from the proxy's (a multi-leg SPNEGO exchange). */
  next(serverToken: string): Promise<string>;
}

/**
 * The Kerberos service for a proxy host as written in its URL, IPv6 brackets
 * off: GSSAPI's host-based name `HTTP@host`, or on Windows the SPN `HTTP/host`
 * (the kerberos package hands the name to SSPI as it is, and SSPI wants an
 * SPN; the MongoDB driver names its service the same way).
 */
export function proxyService(proxyHost: string, platform: NodeJS.Platform = process.platform): string {
  return `HTTP${platform === 'win32' ? '/' : '@'}${proxyHost.replace(/^\[|\]$/g, '')}`;
}

/**
 * A new Negotiate context for `proxyHost`.
 *
 * @throws {NegotiateUnavailable} when the module cannot load.
 */
export function negotiateContext(proxyHost: string, onFirstFailure?: (reason: string) => void): NegotiateContext {
  const kerberos = loadKerberos(onFirstFailure);
  const service = proxyService(proxyHost);
  let client: KerberosClient | undefined;
  const step = async (token: string): Promise<string> => {
    try {
      client ??= await kerberos.initializeClient(service, { mechOID: kerberos.GSS_MECH_OID_SPNEGO });
      return await client.step(token);
    } catch (err) {
      throw ticketError(service, (err as Error).message);
    }
  };
  return { initial: () => step(''), next: (serverToken) => step(serverToken) };
}

/**
 * GSSAPI's words, in the user's. With no credentials cache, MIT's SPNEGO says
 * "cannot find mechanisms to negotiate" (it has no Kerberos credentials to
 * offer) or Kerberos' own "No Kerberos credentials available"; an expired
 * ticket and a service unknown to the KDC have their own messages.
 */
function ticketError(service: string, detail: string): NoKerberosTicket {
  const said = detail.replace(/\s+/g, ' ').trim();
  if (
    /cannot find mechanisms|no kerberos credentials|no credentials cache|credentials cache file .* not found|SEC_E_NO_CREDENTIALS|no credentials were supplied/i.test(
      said,
    )
  ) {
    return new NoKerberosTicket('no Kerberos ticket (run kinit, or sign in to the domain)', said);
  }
  if (/expired/i.test(said)) return new NoKerberosTicket('the Kerberos ticket has expired (run kinit again, or lock and unlock the session)', said);
  if (/not found in kerberos database|unknown_principal|SEC_E_TARGET_UNKNOWN/i.test(said)) {
    return new NoKerberosTicket(
      `the Kerberos realm does not know the service ${service.replace('@', '/')} (write the proxy's host name as the proxy's Kerberos key names it)`,
      said,
    );
  }
  if (/cannot contact any kdc|cannot find kdc/i.test(said)) return new NoKerberosTicket('the Kerberos KDC cannot be reached', said);
  return new NoKerberosTicket(`Kerberos could not get a ticket for ${service} (${said.slice(0, 200)})`, said);
}

/** The first line, without the `\r` of a Windows error text. */
function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0].trim().slice(0, 300);
}
