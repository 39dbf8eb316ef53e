/**
 * The endpoint editor's names for its settings, in one place: the renderer
 * labels its fields with them, and the main process says them when it tells
 * the user which setting to change (main/settings/configRemedies.ts, "Fix it in
 * Endpoints ▸ … ▸ Advanced ▸ CA file"). A renamed field renames the advice.
 */
export const EDITOR_LABELS = {
  /** The window's tab with the list of endpoints and the editor. */
  endpoints: 'Endpoints',
  /** The section of the editor with the settings below. */
  advanced: 'Advanced',
  proxy: 'Proxy',
  proxyNone: 'None',
  proxyCustom: 'Custom URL',
  proxyUrl: 'Proxy URL',
  proxySignIn: 'Proxy sign-in',
  /** The approval of a custom proxy for the Windows sign-in (Negotiate), in words. */
  proxyWindowsSignIn: 'Send my Windows sign-in to this proxy',
  /** The opt-in to a DOMAIN\\user password as Basic over plain http://. */
  proxyClearBasic: 'Allow my Windows password as Basic over plain http://',
  caFile: 'CA file',
  systemCa: 'Use Windows certificate store',
  pins: 'Pinned fingerprints',
  pinOnly: 'Pin only',
  servername: 'Server name (SNI)',
  clientCertificate: 'Client certificate',
  clientPassphrase: 'PKCS#12 passphrase',
  resume: 'Resume tunnels after a break',
} as const;

export type EditorLabel = (typeof EDITOR_LABELS)[keyof typeof EDITOR_LABELS];
