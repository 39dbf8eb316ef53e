/**
 * A diagnostics file for an admin: one plain-text file with the versions,
 * the endpoint's settings, the proxy settings this machine has, the
 * doctor's last run and the last log lines. `wssh doctor --save` and the
 * tray app's "Save diagnostics…" write it.
 *
 * No secret may be in it, and two things see to that: what goes in is made
 * from what holds none (an endpoint by its display, a proxy with `***`, a
 * stored secret as "stored"), and the finished text is scrubbed of every
 * secret the writer knows, in every form it could take there: as typed,
 * %-encoded, in base64 (alone, and as HTTP Basic's `user:secret`), in a
 * JSON string; and of any `user:password@` in a URL.
 */
import os from 'node:os';
import { displayProxy } from '../upstream/upstreamProxy';

export interface DiagnosticsReport {
  /** What wrote it: `wssh doctor`, `the WSSH tray app`. */
  writer: string;
  versions: Array<[name: string, value: string]>;
  sections: Array<{ title: string; lines: string[] }>;
}

/** A secret to keep out, with the user it goes with (for its HTTP Basic form). */
export type KnownSecret = string | { user: string; secret: string };

/** What stands for a secret that was removed. */
export const REMOVED = '***';

/** The report as text, every known secret removed. */
export function diagnosticsText(report: DiagnosticsReport, secrets: KnownSecret[], now = new Date()): string {
  const lines = [
    `WSSH diagnostics, written by ${report.writer} at ${now.toISOString()}`,
    'Secrets (passwords, tokens, credentials) are not in this file.',
    '',
    '== Versions',
    ...report.versions.map(([name, value]) => `${name}: ${value}`),
  ];
  for (const section of report.sections) lines.push('', `== ${section.title}`, ...(section.lines.length > 0 ? section.lines : ['(none)']));
  return withoutSecrets(lines.join('\n') + '\n', secrets);
}

/** `text` with every form of every secret, and any URL's user:password, replaced by `***`. */
export function withoutSecrets(text: string, secrets: KnownSecret[]): string {
  const forms = new Set(secrets.flatMap(secretForms).filter((form) => form.length >= 3));
  // The longest first: a secret's base64 may hold a shorter secret.
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join(REMOVED);
  // A URL's user stays (as in a display, `alice:***@`); its password, or a userinfo that is all token, goes.
  return out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*)(:[^\s/@]*)?@/gi, (_m, scheme: string, user: string, password?: string) =>
    password === undefined ? `${scheme}${REMOVED}@` : `${scheme}${user}:${REMOVED}@`,
  );
}

/** The forms a secret may take in text: as typed, %-encoded, base64 (and base64url), JSON-escaped, and Basic's `user:secret` in base64. */
export function secretForms(known: KnownSecret): string[] {
  const secret = typeof known === 'string' ? known : known.secret;
  if (secret === '') return [];
  const base64 = (text: string) => {
    const b = Buffer.from(text, 'utf8');
    return [b.toString('base64'), b.toString('base64').replace(/=+$/, ''), b.toString('base64url')];
  };
  const forms = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), ...base64(secret)];
  if (typeof known !== 'string') forms.push(...base64(`${known.user}:${known.secret}`));
  return forms;
}

/** The operating system as a person names it: `Windows_NT 10.0.22631 (Windows 11 Pro) x64`, `Linux 6.1.0 x64`. */
export function systemVersion(): string {
  const name = os.version?.() ?? '';
  return `${os.type()} ${os.release()}${name && !name.includes(os.release()) ? ` (${name})` : ''} ${os.arch()}`;
}

/** The proxy variables of an environment, their credentials as `***`; the ones not set are left out. */
export function proxyEnvironmentLines(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => /^(https?|all|no)_proxy$/i.test(name))
    .sort()
    .map((name) => `${name}=${/^no_proxy$/i.test(name) ? env[name] : shownProxy(env[name] ?? '')}`);
}

function shownProxy(value: string): string {
  try {
    return displayProxy(new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`));
  } catch {
    return value.replace(/[^\s/@]*@/, `${REMOVED}@`);
  }
}

/** The secrets of a proxy URL: its password, with its user. */
export function proxySecrets(url: string | undefined): KnownSecret[] {
  if (!url) return [];
  try {
    const parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`);
    if (!parsed.password) return [];
    const user = decodeURIComponent(parsed.username);
    return [{ user, secret: decodeURIComponent(parsed.password) }, parsed.password];
  } catch {
    return [];
  }
}
