/**
 * What PuTTY needs to go through this app: its proxy settings as text, and a
 * `.reg` file that creates a saved session using them.
 *
 * PuTTY keeps sessions under HKCU\Software\SimonTatham\PuTTY\Sessions, one key
 * per session, named by PuTTY's own escaping of the session name (see
 * `escapePuttySessionName`). Values used here, as PuTTY's settings.c names
 * them: HostName, PortNumber, Protocol, ProxyMethod (3 = HTTP), ProxyHost,
 * ProxyPort, and ProxyLocalhost = 1, without which PuTTY connects to a target
 * on localhost directly and silently bypasses the proxy; ProxyUsername and
 * ProxyPassword when the local proxy credential is on (PuTTY keeps the proxy
 * password in the registry in plain text: that is PuTTY's own format).
 */
import type { ProxyCredential } from '../../core/localProxy/socksHandshake';
import type { ListenAddress, PuttySettings } from '../../shared/ipc';
import type { Target } from '../../shared/target';

const PUTTY_SESSIONS_KEY = 'HKEY_CURRENT_USER\\Software\\SimonTatham\\PuTTY\\Sessions';
/** PuTTY's ProxyMethod values: 0 none, 1 SOCKS 4, 2 SOCKS 5, 3 HTTP CONNECT. */
const PUTTY_PROXY_HTTP = 3;

/** The proxy host PuTTY must use: a wildcard listen address is reached on loopback. */
export function puttyProxySettings(listen: ListenAddress, credential?: ProxyCredential): PuttySettings {
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::' || listen.host === '';
  const proxyHost = wildcard ? '127.0.0.1' : listen.host;
  const lines = (password: string) =>
    [
      'Connection > Proxy:',
      '  Proxy type: HTTP CONNECT',
      `  Proxy hostname: ${proxyHost}`,
      `  Port: ${listen.port}`,
      '  Consider proxying local host connections: Yes',
      '  Do DNS name lookup at proxy end: Yes',
      ...(credential ? [`  Username: ${credential.user}`, `  Password: ${password}`] : []),
    ].join('\n');
  const settings: PuttySettings = { proxyType: 'HTTP', proxyHost, proxyPort: listen.port, text: lines(credential?.password ?? '') };
  if (credential) {
    settings.username = credential.user;
    settings.password = credential.password;
    settings.masked = lines('(hidden: see Local proxy sign-in below)');
  }
  return settings;
}

/**
 * The registry key name PuTTY uses for a session name: PuTTY's
 * escape_registry_key() writes space, `\`, `*`, `?`, `%`, control
 * characters, bytes above `~` (every byte of a non-ASCII UTF-8 character),
 * and a leading `.`, as %XX with upper-case hex.
 */
export function escapePuttySessionName(name: string): string {
  let out = '';
  const bytes = Buffer.from(name, 'utf8');
  bytes.forEach((byte, index) => {
    const ch = String.fromCharCode(byte);
    const escape = ch === ' ' || ch === '\\' || ch === '*' || ch === '?' || ch === '%' || byte < 0x20 || byte > 0x7e || (ch === '.' && index === 0);
    out += escape ? '%' + byte.toString(16).toUpperCase().padStart(2, '0') : ch;
  });
  return out;
}

export interface PuttySessionSpec {
  sessionName: string;
  target: Target;
  listen: ListenAddress;
  /** The local proxy credential when it is on. */
  credential?: ProxyCredential;
}

/** The text of a .reg file (regedit's format 5.00) that creates the session. */
export function puttySessionRegText(spec: PuttySessionSpec): string {
  const proxy = puttyProxySettings(spec.listen);
  const lines = [
    'Windows Registry Editor Version 5.00',
    '',
    `[${PUTTY_SESSIONS_KEY}\\${escapePuttySessionName(spec.sessionName)}]`,
    `"HostName"=${regString(spec.target.host)}`,
    `"PortNumber"=${regDword(spec.target.port)}`,
    `"Protocol"="ssh"`,
    `"ProxyMethod"=${regDword(PUTTY_PROXY_HTTP)}`,
    `"ProxyHost"=${regString(proxy.proxyHost)}`,
    `"ProxyPort"=${regDword(proxy.proxyPort)}`,
    `"ProxyLocalhost"=${regDword(1)}`,
    ...(spec.credential ? [`"ProxyUsername"=${regString(spec.credential.user)}`, `"ProxyPassword"=${regString(spec.credential.password)}`] : []),
    '',
  ];
  return lines.join('\r\n');
}

/** regedit writes and expects UTF-16LE with a byte order mark. */
export function encodeRegFile(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

/** A file name for the session's .reg file. */
export function regFileName(sessionName: string): string {
  const safe = sessionName.replace(/[<>:"/\\|?*\x00-\x1f]+/g, '_').trim() || 'session';
  return `PuTTY session ${safe}.reg`;
}

function regString(value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error('a registry string value must be on one line');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function regDword(value: number): string {
  return `dword:${(value >>> 0).toString(16).padStart(8, '0')}`;
}
