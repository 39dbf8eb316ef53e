/**
 * Importing an endpoint profile (NAME.wssh, src/core/dial/profile.ts) into the
 * tray app's settings, and finding profiles among the app's command-line
 * arguments (a double-clicked file, a clicked wssh:// link).
 *
 * The flow is always: offer → the window shows the preview and asks → import.
 * Nothing here selects the endpoint or starts a tunnel, and an endpoint with
 * the same URI is updated only on an explicit 'update' naming it.
 *
 * A link can name the victim's endpoint with the sender's proxy and a pin of
 * the sender's certificate (issue 24): so an update keeps a stored secret
 * only where it would go where it went before. The gateway's secret stays
 * only for the same user, TLS trust and proxy; the client certificate only
 * for the same TLS trust; the proxy password and the approval of the Windows
 * sign-in only for the same proxy (settingsEditor.ts binds them). The preview
 * says what changes and which of them are dropped, from the same plan.
 *
 * The endpoint settings keep a CA as a file path (the editor's "CA file"), so
 * the profile's inline certificates are written to a PEM file in the app's
 * data folder, named after their content.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseEndpoint } from '../../shared/endpoint';
import {
  MAX_PROFILE_BYTES,
  PROFILE_EXTENSION,
  Profile,
  ProfileError,
  isProfileLink,
  parseProfile,
  profileTextFromLink,
  summarizeCertificate,
} from '../../core/dial/profile';
import { DEFAULT_KEEPALIVE_SEC } from '../../shared/defaults';
import { proxyBinding, proxySettingText } from '../../shared/endpointSettings';
import type { EndpointTrust, EndpointView, Outcome, ProfileChange, ProfileImportRequest, ProfileOffer, ProfilePreview } from '../../shared/ipc';
import type { Settings } from './settingsEditor';

/** Where the app keeps imported profiles' CA certificates: `profiles` beside the settings file. */
export function profileCaDir(settingsPath: string): string {
  return path.join(path.dirname(settingsPath), 'profiles');
}

/** What importing `text` would add, or why it cannot be imported. Changes nothing. */
export function previewProfile(deps: PreviewDeps, text: string, source: string): Outcome<ProfilePreview> {
  const parsed = readProfile(text, source);
  if (!parsed.ok) return parsed;
  const profile = parsed.value;
  const existing = sameUri(deps.settings, profile.uri);
  const plan = existing && updatePlan(existing, profile, importedTrust(deps.caDir, profile, existing));
  return {
    ok: true,
    value: {
      text,
      source,
      name: profile.name,
      uri: profile.uri,
      user: profile.user ?? '',
      proxy: structuredClone(profile.proxy),
      ca: profile.trust.ca.map((pem) => summarizeCertificate(pem)),
      pins: [...profile.trust.pins],
      pinOnly: profile.trust.pinOnly,
      servername: profile.trust.servername ?? '',
      resume: profile.resume !== false,
      existing: existing && plan ? { id: existing.id, name: existing.name, changes: plan.changes, dropped: plan.dropped } : null,
    },
  };
}

export interface PreviewDeps {
  settings: Pick<Settings, 'view'>;
  /** Where the profiles' CA certificates are written (a folder in the app's data): profileCaDir. */
  caDir: string;
}

export interface ImportDeps extends PreviewDeps {
  settings: Settings;
}

/** Imports a profile the user confirmed. */
export function importProfile(deps: ImportDeps, request: ProfileImportRequest): Outcome<EndpointView> {
  if (typeof request !== 'object' || request === null || typeof request.text !== 'string') return fail('the import request is malformed');
  const source = typeof request.source === 'string' ? request.source : 'the profile';
  const parsed = readProfile(request.text, source);
  if (!parsed.ok) return parsed;
  const profile = parsed.value;
  const existing = sameUri(deps.settings, profile.uri);
  if (request.mode === 'update') {
    if (!existing || existing.id !== request.updateId)
      return fail(`no saved endpoint with the URI ${profile.uri} to update (it was changed or deleted meanwhile)`);
  } else if (request.mode !== 'add') {
    return fail('the import mode must be "add" or "update"');
  }
  const update = request.mode === 'update' ? existing : undefined;

  if (profile.trust.ca.length > 0) {
    try {
      writeCaFile(deps.caDir, profile.trust.ca);
    } catch (err) {
      return fail(`cannot store the profile's CA certificates in ${deps.caDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const trust = importedTrust(deps.caDir, profile, update);
  const plan = update && updatePlan(update, profile, trust);
  if (plan?.keepClientCertificate) {
    for (const name of ['clientCert', 'clientKey', 'clientPfx'] as const) if (update!.trust[name]) trust[name] = update!.trust[name];
  }
  return deps.settings.saveEndpoint(
    {
      id: update?.id,
      name: profile.name,
      uri: profile.uri,
      user: profile.user ?? '',
      // Kept only where it would go where it went before: see updatePlan.
      secret: plan?.keepSecret ? undefined : '',
      keepaliveSec: update?.keepaliveSec ?? DEFAULT_KEEPALIVE_SEC,
      proxy: structuredClone(profile.proxy),
      trust,
      // The profile turns resume off (`"resume": false`); without the field it has no say: an update keeps the endpoint's choice.
      resume: profile.resume === false ? false : (update?.resume ?? true),
      clientPassphrase: plan?.keepClientCertificate ? undefined : '',
      // For the same proxy, its sign-in stays (settingsEditor keeps the password and the approval then); for another, the default.
      proxyAuth: plan?.keepProxySignIn ? undefined : { mode: 'windows' },
      proxySecret: plan?.keepProxySignIn ? undefined : '',
    },
    { keepActive: true },
  );
}

/**
 * The TLS trust an import saves: the profile's (its CA certificates as the
 * file writeCaFile writes), and the machine's own choice of the OS store,
 * which is not the profile's to undo.
 */
function importedTrust(caDir: string, profile: Profile, update: EndpointView | undefined): EndpointTrust {
  const trust: EndpointTrust = {};
  if (profile.trust.ca.length > 0) trust.caFile = caFilePath(caDir, profile.trust.ca);
  if (update?.trust.systemCa) trust.systemCa = true;
  if (profile.trust.pins.length > 0) trust.pins = [...profile.trust.pins];
  if (profile.trust.pinOnly) trust.pinOnly = true;
  if (profile.trust.servername !== undefined) trust.servername = profile.trust.servername;
  return trust;
}

/** What updating `existing` with `profile` (and its `trust`) changes, and which stored secrets it keeps. */
interface UpdatePlan {
  changes: ProfileChange[];
  /** The stored secrets (and the approval) dropped, in words. */
  dropped: string[];
  keepSecret: boolean;
  keepClientCertificate: boolean;
  /** The proxy sign-in (its user, password, approval of the Windows sign-in) belongs to the proxy it was set for. */
  keepProxySignIn: boolean;
}

function updatePlan(existing: EndpointView, profile: Profile, trust: EndpointTrust): UpdatePlan {
  const user = profile.user ?? '';
  const sameProxy = proxyBinding(existing.proxy) === proxyBinding(profile.proxy);
  const sameTrust = trustText(existing.trust) === trustText(trust);
  const sameUser = existing.user === user;
  const changes: ProfileChange[] = [];
  const change = (label: string, from: string, to: string) => from !== to && changes.push({ label, from, to });
  change('Name', existing.name, profile.name);
  change('User', existing.user || 'none', user || 'none');
  change('Proxy', proxySettingText(existing.proxy), proxySettingText(profile.proxy));
  change('TLS trust', trustText(existing.trust), trustText(trust));
  const keepSecret = sameUser && sameProxy && sameTrust;
  const dropped: string[] = [];
  if (existing.hasSecret && !keepSecret) {
    const why = !sameUser ? "it was another user's" : !sameProxy ? 'the proxy changes' : 'the TLS trust changes';
    dropped.push(`the stored secret of ${existing.user} (${why})`);
  }
  const oldProxy = proxySettingText(existing.proxy);
  if (existing.proxyAuth.mode === 'password' && !sameProxy) {
    const password = existing.hasProxySecret ? ' and its password' : '';
    dropped.push(`the proxy sign-in as ${existing.proxyAuth.user}${password} (saved for ${oldProxy})`);
  }
  if (existing.proxyWindowsSignIn && !sameProxy) dropped.push(`your approval to send your Windows sign-in to ${oldProxy}`);
  const certificate = existing.trust.clientCert ?? existing.trust.clientPfx;
  if (certificate && !sameTrust) {
    dropped.push(`the client certificate ${certificate}${existing.hasClientPassphrase ? ' and its passphrase' : ''} (the TLS trust changes)`);
  }
  return { changes, dropped, keepSecret, keepClientCertificate: sameTrust, keepProxySignIn: sameProxy };
}

/** The server-checking part of a trust, as a person reads it (the client certificate aside). */
function trustText(trust: EndpointTrust): string {
  const parts = [
    trust.caFile && `CA file ${trust.caFile}`,
    trust.systemCa && 'the Windows certificate store',
    trust.pins?.length && `pins ${[...trust.pins].sort().join(', ')}`,
    trust.pinOnly && 'pin only',
    trust.servername && `server name ${trust.servername}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : 'the usual certificate authorities';
}

/** A profile found on the command line: its text, or why it could not be read. */
export type LaunchProfile = { ok: true; text: string; source: string } | { ok: false; source: string; error: string };

/**
 * The profile among the app's own arguments (the program's are left out): a
 * `wssh://` link (the registered protocol) or a path ending in .wssh (the
 * file association). Windows starts the app with the one file or link as its
 * argument (`"WSSH.exe" "%1"`); a running app gets the second instance's.
 * Chromium's switches are ignored.
 *
 * Only that one argument is read (issue 24): an argument injected beside it
 * (a crafted link that breaks the command line's quoting) makes the start
 * read none, and says so; and a path on a network share (`\\server\share`,
 * directly or through a working folder there) is never opened, since opening
 * it would send the user's Windows sign-in to that server (SMB).
 */
export function profilesFromArgv(
  args: readonly string[],
  cwd: string,
  readFile: (file: string) => Buffer = fs.readFileSync,
  statSize: (file: string) => number = (f) => fs.statSync(f).size,
): LaunchProfile[] {
  const positional = args.filter((a) => !a.startsWith('-'));
  if (positional.length === 0) return [];
  if (positional.length > 1) {
    const error =
      `WSSH was started with ${positional.length} arguments, and reads a profile only when opened with one ` +
      '(a double-clicked .wssh file, a clicked wssh:// link): none was read';
    return [{ ok: false, source: 'the command line', error }];
  }
  const [arg] = positional;
  if (isProfileLink(arg)) {
    try {
      return [{ ok: true, text: profileTextFromLink(arg), source: 'a wssh:// link' }];
    } catch (err) {
      if (!(err instanceof ProfileError)) throw err;
      return [{ ok: false, source: 'a wssh:// link', error: err.message }];
    }
  }
  if (!arg.toLowerCase().endsWith(PROFILE_EXTENSION)) return [];
  const file = path.resolve(cwd, arg);
  const source = `the file ${isNetworkPath(arg) ? arg : file}`;
  if (isNetworkPath(arg) || isNetworkPath(file) || (!path.isAbsolute(arg) && isNetworkPath(cwd))) {
    return [{ ok: false, source, error: 'a profile on a network share is not opened (that would sign you in to its server): copy it to this computer first' }];
  }
  try {
    if (statSize(file) > MAX_PROFILE_BYTES) return [{ ok: false, source, error: `not a WSSH profile: larger than ${MAX_PROFILE_BYTES / 1024} KiB` }];
    return [{ ok: true, text: readFile(file).toString('utf8'), source }];
  } catch (err) {
    return [{ ok: false, source, error: `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }];
  }
}

/** A UNC path (`\\server\share\…`, `//server/share/…`) or a device path (`\\?\UNC\…`, `\\.\…`): Windows would open it over the network. */
export function isNetworkPath(file: string): boolean {
  return /^[\\/]{2}/.test(file);
}

/** What the window is sent for a profile from the command line. */
export function offerFor(deps: PreviewDeps, launch: LaunchProfile): ProfileOffer {
  if (!launch.ok) return launch;
  const preview = previewProfile(deps, launch.text, launch.source);
  return preview.ok ? { ok: true, preview: preview.value } : { ok: false, source: launch.source, error: preview.error };
}

/**
 * The offers for the profile among `argv` (process.argv, or a second
 * instance's), whose first `programArgs` are the program's own: the
 * executable, and in a development run (`electron .`) the app's folder.
 */
export function offersFromArgv(deps: PreviewDeps, argv: readonly string[], cwd: string, programArgs = 1): ProfileOffer[] {
  return profilesFromArgv(argv.slice(programArgs), cwd).map((launch) => offerFor(deps, launch));
}

function readProfile(text: string, source: string): Outcome<Profile> {
  if (typeof text !== 'string') return fail(`${source}: not a WSSH profile`);
  try {
    return { ok: true, value: parseProfile(text) };
  } catch (err) {
    if (err instanceof ProfileError) return fail(`${source}: ${err.message}`);
    throw err;
  }
}

function sameUri(settings: Pick<Settings, 'view'>, uri: string): EndpointView | undefined {
  const normal = parseEndpoint(uri).url;
  return settings.view().endpoints.find((e) => {
    try {
      return parseEndpoint(e.uri).url === normal;
    } catch {
      return false;
    }
  });
}

/** `<caDir>/profile-ca-<hash>.pem`: the same certificates, the same file. */
function caFilePath(caDir: string, pems: string[]): string {
  return path.join(caDir, `profile-ca-${crypto.createHash('sha256').update(pems.join('')).digest('hex').slice(0, 16)}.pem`);
}

/** Writes the CA certificates to their file (caFilePath). */
function writeCaFile(caDir: string, pems: string[]): string {
  const text = pems.join('');
  const file = caFilePath(caDir, pems);
  fs.mkdirSync(caDir, { recursive: true });
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, text, { mode: 0o644 });
    fs.renameSync(temp, file);
  }
  return file;
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
