/**
 * Core's configuration errors (core/tunnel/configErrors.ts) in the tray app's words:
 * what is wrong, what to change, and where, naming the endpoint editor's
 * fields as the editor labels them (shared/editorLabels.ts). Core names no
 * flag and no field, so that the CLI can say the same with its flags.
 */
import { ConfigError, type ConfigField, type ConfigProblem } from '../../core/tunnel/configErrors';
import { TunnelError } from '../../core/tunnel/tunnelError';
import { EDITOR_LABELS as L, type EditorLabel } from '../../shared/editorLabels';

/** The editor's field (or group of fields) for each setting. */
export function labelOf(field: ConfigField): EditorLabel {
  switch (field) {
    case 'systemCa':
      return L.systemCa;
    case 'pin':
      return L.pins;
    case 'pinOnly':
      return L.pinOnly;
    case 'servername':
      return L.servername;
    case 'proxy':
      return L.proxy;
    case 'proxySignIn':
      return L.proxySignIn;
    case 'clientCertificate':
      return L.clientCertificate;
  }
}

export interface AppRemedy {
  /** What to do, in words; undefined when the message itself says what is expected. */
  says?: string;
  /** The field of the editor (or its group) where it is done: the end of "Fix it in …". */
  place: EditorLabel;
}

const quoted = (label: EditorLabel) => `"${label}"`;

/** What the user of the app does about `problem`. */
export function remedyOf(problem: ConfigProblem): AppRemedy {
  switch (problem.hint) {
    case 'fix-value':
      return { place: labelOf(problem.field) };
    case 'add-pin':
      return { says: `add the fingerprint the certificate must have to ${quoted(L.pins)}, or untick ${quoted(L.pinOnly)}`, place: L.pins };
    case 'add-ca':
      return { says: `give the CA certificate as ${quoted(L.caFile)} (or untick ${quoted(L.systemCa)})`, place: L.caFile };
    case 'add-ca-or-newer-node':
      // The app's Node is Electron's: a newer one is not the user's to choose.
      return { says: `give the CA certificate as ${quoted(L.caFile)} instead, and untick ${quoted(L.systemCa)}`, place: L.caFile };
    case 'give-passphrase':
      return { says: `give it as ${quoted(L.clientPassphrase)}`, place: L.clientCertificate };
    case 'fix-passphrase':
      return { says: `correct the ${quoted(L.clientPassphrase)}`, place: L.clientCertificate };
    case 'present-accepted-certificate':
      return { says: 'give the endpoint a client certificate the gateway accepts', place: L.clientCertificate };
    case 'choose-proxy':
      return { says: `fix that setting, or choose ${quoted(L.proxyNone)} or ${quoted(L.proxyCustom)} under ${quoted(L.proxy)}`, place: L.proxy };
    case 'approve-windows-sign-in':
      return { says: `tick ${quoted(L.proxyWindowsSignIn)} under ${quoted(L.proxySignIn)}, if you trust this proxy`, place: L.proxySignIn };
    case 'allow-clear-basic':
      return { says: `use an https:// proxy URL, or tick ${quoted(L.proxyClearBasic)} under ${quoted(L.proxySignIn)}`, place: L.proxySignIn };
  }
}

/** `message`, followed by what to do when a setting caused it. */
export function withRemedy(message: string, setting: ConfigProblem | undefined): string {
  const says = setting && remedyOf(setting).says;
  return says ? `${message}: ${says}` : message;
}

/** A place in the window: `Endpoints ▸ Corp ▸ Advanced ▸ CA file`. */
export function editorPlace(endpointName: string | undefined, label: EditorLabel): string {
  return `${L.endpoints} ▸ ${endpointName ?? 'the endpoint'} ▸ ${L.advanced} ▸ ${label}`;
}

/** Where `setting` is fixed, for "Fix it in …". */
export function fixPlace(setting: ConfigProblem, endpointName: string | undefined): string {
  return editorPlace(endpointName, remedyOf(setting).place);
}

/** The setting an error blames, if any: a configuration error's, or the one a refused dial carried. */
export function settingOf(err: unknown): ConfigProblem | undefined {
  if (err instanceof ConfigError) return err.problem;
  if (err instanceof TunnelError) return err.setting;
  return undefined;
}

/** An error as the app shows it: with the remedy, in the editor's words, when a setting caused it. */
export function errorText(err: Error): string {
  return withRemedy(err.message, settingOf(err));
}
