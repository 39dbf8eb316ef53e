/**
 * What the doctor says about a failed step: what came back, the most likely
 * cause and the fix, in the user's terms. Where the fix is a setting, the
 * front end names it (`DoctorWords`): the CLI by its flag, the tray app by
 * the endpoint editor's field, as configuration errors are worded
 * (tunnel/configErrors.ts).
 */
import type { Endpoint } from '../../shared/endpoint';
import { formatTarget, type Target } from '../../shared/target';
import type { ConfigProblem } from '../tunnel/configErrors';
import type { TunnelError } from '../tunnel/tunnelError';
import type { Hop } from '../upstream/hopTrace';
import { ProxyRefusal, type ProxyAuthOutcome } from '../upstream/upstreamProxy';
import type { DialEvent } from '../dial/dialTrace';
import type { ChainFacts } from './tlsChain';

/** The settings the doctor's fixes point at, named as the front end's user knows them. */
export interface DoctorWords {
  /** Where the way to the endpoint is chosen (CLI: `--proxy URL, --pac or --no-proxy`; app: the editor's Proxy). */
  proxy: string;
  /** Where the HTTP proxy's user and password are given. */
  proxySignIn: string;
  /** Where a CA certificate to trust is given. */
  ca: string;
  /** Where the pinned fingerprints are. */
  pin: string;
  /** Where the TLS server name is set. */
  servername: string;
  /** Where the client certificate is given. */
  clientCertificate: string;
  /** Where the endpoint's user and secret are given. */
  credentials: string;
  /** Where the keepalive is set. */
  keepalive: string;
  /** A setting's problem with its remedy (the front end's configRemedies). */
  remedy(message: string, problem: ConfigProblem): string;
}

/** What a step says: what came back, and for a failure its cause and fix. */
export interface StepWords {
  answer: string;
  cause?: string;
  fix?: string;
}

/** The refusal codes by which the WSSH server refuses the target, not the upgrade itself. */
export const TARGET_REFUSALS: ReadonlySet<string> = new Set(['denied', 'unreachable', 'connect-timeout', 'bad-target']);

/** The network error's code under a TunnelError (ENOTFOUND, ECONNREFUSED…), or the TunnelError's own. */
export function errorCode(err: TunnelError): string | undefined {
  const cause = err.cause as { code?: string } | undefined;
  return cause?.code ?? err.code;
}

const whose = (hop: Hop) => (hop === 'proxy' ? 'the HTTP proxy' : 'the gateway');

export function dnsFailure(hop: Hop, host: string, err: TunnelError, words: DoctorWords): StepWords {
  const code = errorCode(err) ?? 'no answer';
  const answer = code === 'EAI_AGAIN' ? `no answer from the DNS server (${code})` : `no address for ${host} (${code})`;
  if (hop === 'proxy') {
    return { answer, cause: `the proxy's name ${host} is not known on this network`, fix: `check the proxy's name in ${words.proxy}` };
  }
  return {
    answer,
    cause:
      code === 'EAI_AGAIN'
        ? 'this computer cannot reach a DNS server now (offline, or DNS only works through the company network)'
        : `the name ${host} is misspelt, or known only inside another network`,
    fix: `check the host in the endpoint's URI; a name known only inside the company network needs its proxy (${words.proxy}) or its VPN`,
  };
}

export function tcpFailure(hop: Hop, host: string, port: number, err: TunnelError, words: DoctorWords): StepWords {
  const code = errorCode(err);
  const at = `${host}:${port} (${whose(hop)})`;
  const setting = hop === 'proxy' ? `check the proxy's host and port in ${words.proxy}` : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return {
        answer: 'connection refused',
        cause:
          hop === 'proxy'
            ? `no proxy listens on ${at}: it is down, or the setting names the wrong port`
            : `nothing listens on ${at}: nginx (or the WSSH server) is not running there, or the port is wrong`,
        fix:
          setting ?? "check the port in the endpoint's URI (wss:// means 443 unless one is given); ask the gateway's admin whether nginx and wssh server run",
      };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return {
        answer: `no route (${code})`,
        cause: `this network has no way to ${at}`,
        fix: setting ?? `reach the endpoint through the company's HTTP proxy (${words.proxy})`,
      };
    case 'ECONNRESET':
      return {
        answer: 'the connection was reset',
        cause: `a firewall on the way refuses connections to ${at}`,
        fix: setting ?? `reach the endpoint through the company's HTTP proxy (${words.proxy})`,
      };
  }
  return {
    answer: `no answer (${code ?? err.refusal})`,
    cause: `nothing answered from ${at}: a firewall drops the connection (in a company network often only the proxy may go out), or the host is down`,
    fix: setting ?? `reach the endpoint through the company's HTTP proxy (${words.proxy})`,
  };
}

export function proxyFailure(err: TunnelError, endpoint: Endpoint, words: DoctorWords): StepWords {
  const refusal = err.cause instanceof ProxyRefusal ? err.cause : undefined;
  const authority = new URL(endpoint.url).host;
  if (err.code === 'PROXY_SIGN_IN_TIMEOUT' || err.code === 'PROXY_TIMEOUT') {
    return {
      answer: 'no answer in time',
      cause: err.message,
      fix: `check ${words.proxy}; a proxy that takes the connection and never answers may not be an HTTP proxy`,
    };
  }
  if (!refusal) return { answer: err.message, cause: err.message, fix: `check ${words.proxy}` };
  const said = `${refusal.status} ${refusal.statusText}`.trim();
  if (refusal.status === 407 || refusal.status === 401) {
    return { answer: `${said}${authText(refusal.auth)}`, cause: err.message, fix: signInFix(refusal.auth, words) };
  }
  if (refusal.status === 403) {
    return {
      answer: said,
      cause: `the proxy does not let this computer CONNECT to ${authority}`,
      fix: `ask the proxy's admin to allow CONNECT to ${authority} (many proxies allow only port 443: the gateway on 443 gets through)`,
    };
  }
  return { answer: said, cause: err.message, fix: `the proxy could not reach ${authority}: check the endpoint's host, or ask the proxy's admin` };
}

/** A 407's offer and what was tried: `; offers Negotiate, NTLM; Negotiate: no Kerberos ticket; NTLM as CORP\alice: refused`. */
function authText(auth: ProxyAuthOutcome | undefined): string {
  if (!auth) return '';
  const tried = auth.attempts.map((a) => `${a.scheme}${a.user ? ` as ${a.user}` : ''}: ${a.refused ? (a.reason ?? 'refused') : a.reason}`);
  return `; offers ${auth.offered.join(', ') || 'nothing it names'}${tried.length ? `; ${tried.join('; ')}` : ''}`;
}

function signInFix(auth: ProxyAuthOutcome | undefined, words: DoctorWords): string {
  const refused = auth?.attempts.some((a) => a.refused && a.scheme !== 'Negotiate');
  if (refused) return `correct the proxy user and password in ${words.proxySignIn} (DOMAIN\\user for NTLM)`;
  const noTicket = auth?.attempts.some((a) => a.scheme === 'Negotiate' && !a.refused);
  const credentials = `give the proxy user and password in ${words.proxySignIn}`;
  if (noTicket && auth?.offered.some((s) => s !== 'Negotiate'))
    return `sign in to the Windows domain (kinit on Linux) for a Kerberos ticket, or ${credentials}`;
  if (noTicket) return 'sign in to the Windows domain (kinit on Linux) for a Kerberos ticket: this proxy takes nothing else';
  if (auth?.attempts.some((a) => a.scheme === 'Negotiate' && a.refused)) return `the proxy refused the Kerberos ticket: ask its admin, or ${credentials}`;
  return credentials;
}

export function tlsFailure(err: TunnelError, facts: ChainFacts | undefined, endpoint: Endpoint, words: DoctorWords): StepWords {
  const host = new URL(endpoint.url).hostname;
  const code = errorCode(err);
  const chain = facts ? `; ${facts.subject} issued by ${facts.issuer}` : '';
  const answer = `${code ?? err.refusal}${chain}`;
  if (err.setting) return { answer, cause: err.message, fix: words.remedy(err.message, err.setting) };
  const inspection = facts?.inspection
    ? `the certificate is not the gateway's: ${facts.inspection}. ` +
      'Something between this computer and the gateway re-signs TLS (TLS inspection by a corporate proxy, firewall or antivirus)'
    : undefined;
  const exempt =
    `ask IT to exempt ${host} from TLS inspection; ` +
    `trusting the inspection CA (${words.ca}) works too, but lets the middlebox read the upgrade and its credentials`;
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      if (inspection) return { answer, cause: inspection, fix: exempt };
      return {
        answer,
        cause: `this computer does not trust ${facts?.issuer ?? 'the issuer'}, which issued the certificate of ${host}`,
        fix: `trust the gateway's CA (${words.ca}), or pin its certificate (${words.pin})`,
      };
    case 'ERR_TLS_PIN_MISMATCH':
      if (inspection)
        return { answer, cause: inspection, fix: `if the gateway's admin renewed its certificate, pin the new one (${words.pin}); otherwise ${exempt}` };
      return {
        answer,
        cause:
          'the gateway presents another certificate than the pinned one' +
          `${facts?.fromTrustedCa ? ', issued by the CA this endpoint trusts: it was probably renewed' : ''} (${err.message})`,
        fix: `ask the gateway's admin for the new fingerprint and pin it (${words.pin})`,
      };
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return {
        answer,
        cause: `the certificate is for other names (${err.message})`,
        fix: `use a host name the certificate names in the URI, or set the name to check (${words.servername})`,
      };
    case 'CERT_HAS_EXPIRED':
      return { answer, cause: `the gateway's certificate has expired`, fix: "the gateway's admin must renew it (and check this computer's clock)" };
    case 'CERT_NOT_YET_VALID':
      return { answer, cause: "the certificate is not valid yet: this computer's clock is probably wrong", fix: "set this computer's date and time right" };
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return {
        answer,
        cause: `no TLS server answers at ${host}: is it a ws:// endpoint, or the wrong port?`,
        fix: 'use ws:// for a gateway without TLS, or the port of its TLS server',
      };
  }
  if (err.refusal === 'client-certificate')
    return { answer, cause: err.message, fix: `give the client certificate the gateway accepts (${words.clientCertificate})` };
  return {
    answer,
    cause: `the TLS handshake failed (${err.message})${inspection ? `: ${inspection}` : ''}`,
    fix: inspection ? exempt : `check that ${host} is a TLS server`,
  };
}

type Refused = Extract<DialEvent, { kind: 'refused' }>;

/** The upgrade refused: by the WSSH server (a named refusal), by something in front of it, or its credentials. */
export function upgradeFailure(err: TunnelError, refused: Refused | undefined, endpoint: Endpoint, words: DoctorWords): StepWords {
  const answer = refused ? `${refused.status} ${refused.statusText}`.trim() + (refused.refusal ? ` (refusal ${refused.refusal})` : '') : err.message;
  const path = new URL(endpoint.url).pathname;
  const admin = "ask the gateway's admin";
  if (refused?.refusal === 'origin') {
    return {
      answer,
      cause:
        'the server refused the Origin header of the upgrade: WSSH sends none, ' +
        'so something between this computer and the server adds one (a reverse proxy or web gateway)',
      fix: `${admin} to stop adding Origin in front of the WSSH server, or to allow that origin (wssh server --allow-origin)`,
    };
  }
  switch (err.refusal) {
    case 'auth-required':
      return endpoint.credentials
        ? {
            answer,
            cause: `the server refused the credentials of "${endpoint.credentials.user}"`,
            fix: `correct the endpoint's user and secret (${words.credentials})`,
          }
        : { answer, cause: 'the server asks for a user and secret, and none was given', fix: `give the endpoint's user and secret (${words.credentials})` };
    case 'no-server':
      return {
        answer,
        cause: `no WSSH server at the path ${path}: the path is wrong, or nginx does not pass it on`,
        fix: "check the path in the endpoint's URI (e.g. wss://gw.example.com/ssh)",
      };
    case 'denied':
      return {
        answer,
        cause: `${refused?.status ?? 403} with no WSSH refusal code: nginx (or another server in front of WSSH) refused the request`,
        fix: `${admin} what refuses ${path}`,
      };
    case 'timeout':
      return {
        answer: 'no answer in time',
        cause: 'the connection is open, but nothing answered the upgrade in time',
        fix: `${admin} whether the WSSH server behind nginx answers`,
      };
    case 'client-limit':
    case 'capacity':
    case 'busy':
    case 'draining':
    case 'login-backlog':
    case 'descriptors':
      return { answer, cause: err.message, fix: `try again in a while; if it lasts, ${admin}` };
  }
  if (refused && !refused.refusal && (refused.status === 502 || refused.status === 503 || refused.status === 504)) {
    return {
      answer,
      cause: `${refused.status} with no WSSH refusal code: nginx (or a proxy in front) has no WSSH server to pass the upgrade to`,
      fix: `${admin} to check that wssh server runs and that nginx's proxy_pass points at it`,
    };
  }
  return { answer, cause: err.message, fix: admin };
}

/** The target refused by the server (its policy, its connect), or an old server's text. */
export function targetFailure(err: TunnelError, refused: Refused | undefined, target: Target, words: DoctorWords): StepWords {
  const name = formatTarget(target);
  const said = refused?.reason ? `: ${refused.reason}` : err.code === 'LEGACY_REFUSAL' ? `: ${err.message}` : '';
  const answer = refused ? `${refused.status} ${refused.statusText}`.trim() + (refused.refusal ? ` (refusal ${refused.refusal})` : '') + said : err.message;
  switch (err.refusal) {
    case 'denied':
      return {
        answer,
        cause: `the gateway's hosts.yml does not allow ${name}`,
        fix: `check the host name; ask the gateway's admin to allow ${name} in hosts.yml`,
      };
    case 'unreachable':
      return {
        answer,
        cause: /refused/i.test(answer)
          ? `no SSH server listens on ${name}: sshd is not running there, or it listens on another port`
          : `the gateway cannot reach ${name}`,
        fix: `check that sshd runs on ${name}${target.port === 22 ? ' (port 22)' : ''}; give host:port for another port`,
      };
    case 'connect-timeout':
      return {
        answer,
        cause: `the gateway got no answer from ${name}: the host is down, or a firewall between it and the gateway drops the connection`,
        fix: `ask the gateway's admin whether ${name} can be reached from the gateway`,
      };
    case 'bad-target':
      return { answer, cause: err.message, fix: 'give the target as host or host:port' };
  }
  void words;
  return { answer, cause: err.message };
}
