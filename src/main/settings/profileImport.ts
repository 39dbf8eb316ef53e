/**
 * Importing an endpoint profile (NAME.wssh, src/core/dial/profile.ts) into the
 * tray app's settings, and finding profiles among the app's command-line
 * arguments (a double-clicked file, a clicked wssh:// link).
 *
 * The flow is always: offer → the window shows the preview and asks → import.
 * Nothing here selects the endpoint or starts a tunnel, and an endpoint with
 * the same URI is updated only on an explicit 'update' naming it.
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
import type { EndpointTrust, EndpointView, Outcome, ProfileImportRequest, ProfileOffer, ProfilePreview } from '../../shared/ipc';
import type { Settings } from './settingsEditor';

/** What importing `text` would add, or why it cannot be imported. Changes nothing. */
export function previewProfile(settings: Pick<Settings, 'view'>, text: string, source: string): Outcome<ProfilePreview> {
  const parsed = readProfile(text, source);
  if (!parsed.ok) return parsed;
  const profile = parsed.value;
  const existing = sameUri(settings, profile.uri);
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
      existing: existing ? { id: existing.id, name: existing.name } : null,
    },
  };
}

export interface ImportDeps {
  settings: Settings;
  /** Where the profiles' CA certificates are written (a folder in the app's data). */
  caDir: string;
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

  let caFile: string | undefined;
  if (profile.trust.ca.length > 0) {
    try {
      caFile = writeCaFile(deps.caDir, profile.trust.ca);
    } catch (err) {
      return fail(`cannot store the profile's CA certificates in ${deps.caDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const trust: EndpointTrust = {};
  if (caFile !== undefined) trust.caFile = caFile;
  // The machine's own choice (the OS store) is not the profile's to undo.
  if (update?.trust.systemCa) trust.systemCa = true;
  if (profile.trust.pins.length > 0) trust.pins = [...profile.trust.pins];
  if (profile.trust.pinOnly) trust.pinOnly = true;
  if (profile.trust.servername !== undefined) trust.servername = profile.trust.servername;

  const user = profile.user ?? '';
  return deps.settings.saveEndpoint(
    {
      id: update?.id,
      name: profile.name,
      uri: profile.uri,
      user,
      // A stored secret belongs to its user: kept for the same user, dropped for another.
      secret: update && update.user === user ? undefined : '',
      keepaliveSec: update?.keepaliveSec ?? DEFAULT_KEEPALIVE_SEC,
      proxy: structuredClone(profile.proxy),
      trust,
      // The profile turns resume off (`"resume": false`); without the field it has no say: an update keeps the endpoint's choice.
      resume: profile.resume === false ? false : (update?.resume ?? true),
    },
    { keepActive: true },
  );
}

/** A profile found on the command line: its text, or why it could not be read. */
export type LaunchProfile = { ok: true; text: string; source: string } | { ok: false; source: string; error: string };

/**
 * The profiles among command-line arguments: a `wssh://` link (the registered
 * protocol) or a path ending in .wssh (the file association). Windows starts
 * the app with the file or link as an argument; a running app gets the
 * second instance's arguments. Other arguments (Chromium's switches, the app's
 * own path) are ignored.
 */
export function profilesFromArgv(
  argv: readonly string[],
  cwd: string,
  readFile: (file: string) => Buffer = fs.readFileSync,
  statSize: (file: string) => number = (f) => fs.statSync(f).size,
): LaunchProfile[] {
  const found: LaunchProfile[] = [];
  for (const arg of argv) {
    if (isProfileLink(arg)) {
      try {
        found.push({ ok: true, text: profileTextFromLink(arg), source: 'a wssh:// link' });
      } catch (err) {
        if (!(err instanceof ProfileError)) throw err;
        found.push({ ok: false, source: 'a wssh:// link', error: err.message });
      }
    } else if (!arg.startsWith('-') && arg.toLowerCase().endsWith(PROFILE_EXTENSION)) {
      const file = path.resolve(cwd, arg);
      const source = `the file ${file}`;
      try {
        if (statSize(file) > MAX_PROFILE_BYTES) {
          found.push({ ok: false, source, error: `not a WSSH profile: larger than ${MAX_PROFILE_BYTES / 1024} KiB` });
          continue;
        }
        found.push({ ok: true, text: readFile(file).toString('utf8'), source });
      } catch (err) {
        found.push({ ok: false, source, error: `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
      }
    }
  }
  return found;
}

/** What the window is sent for a profile from the command line. */
export function offerFor(settings: Pick<Settings, 'view'>, launch: LaunchProfile): ProfileOffer {
  if (!launch.ok) return launch;
  const preview = previewProfile(settings, launch.text, launch.source);
  return preview.ok ? { ok: true, preview: preview.value } : { ok: false, source: launch.source, error: preview.error };
}

/** The offers for the profiles among `argv` (process.argv, or a second instance's). */
export function offersFromArgv(settings: Pick<Settings, 'view'>, argv: readonly string[], cwd: string): ProfileOffer[] {
  return profilesFromArgv(argv.slice(1), cwd).map((launch) => offerFor(settings, launch));
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

/** Writes the CA certificates to `<caDir>/profile-ca-<hash>.pem` (the same certificates, the same file). */
function writeCaFile(caDir: string, pems: string[]): string {
  const text = pems.join('');
  const name = `profile-ca-${crypto.createHash('sha256').update(text).digest('hex').slice(0, 16)}.pem`;
  const file = path.join(caDir, name);
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
