/**
 * The one contract between the main process, the preload script and the
 * renderer: IPC channel names, their payloads, and the `WsshApi` that the
 * preload exposes as `window.wssh`.
 *
 * Runs anywhere (types and constants only): no Node, no Electron, no DOM.
 */
import type { TrafficSnapshot } from './traffic';
import type { SavedSession, SavedSessionsView, SessionRef } from './sessions';
import type { EndpointTrust, ProxyAuthSetting, ProxySetting } from './endpointSettings';
import type { TunnelInfo } from './tunnelInfo';
import type { ListenAddress } from './listenAddress';
import type { Diagnosis, DiagnosisStep } from './diagnosis';

// Types of their own files, which the core uses too (it does not import this contract); named here for main and the window.
export type { Diagnosis, DiagnosisStep, EndpointTrust, ListenAddress, ProxyAuthSetting, ProxySetting, TunnelInfo };

/** What is wrong with an endpoint's advanced settings, per field, in the core's words. */
export interface AdvancedProblems {
  proxyUrl?: string;
  caFile?: string;
  pins?: string;
  pinOnly?: string;
  servername?: string;
  clientCert?: string;
  proxyUser?: string;
}

/** A saved endpoint as the renderer sees it: the secret never leaves the main process. */
export interface EndpointView {
  id: string;
  name: string;
  /** `ws://` or `wss://` URI without userinfo. */
  uri: string;
  /** Basic-auth user name; empty when the endpoint has no credentials. */
  user: string;
  /** Whether a secret is stored (encrypted) for this endpoint. */
  hasSecret: boolean;
  /** WebSocket ping interval in seconds; 0 turns pings off. */
  keepaliveSec: number;
  proxy: ProxySetting;
  /** How the app signs in to the proxy; the password never leaves the main process. */
  proxyAuth: ProxyAuthSetting;
  /** Whether a proxy password is stored (encrypted). */
  hasProxySecret: boolean;
  /** Whether the user approved the custom proxy for their Windows sign-in (false for System and None: they need none). */
  proxyWindowsSignIn: boolean;
  trust: EndpointTrust;
  /** Whether a passphrase for `trust.clientPfx` is stored (encrypted). */
  hasClientPassphrase: boolean;
  /** Offer the server to resume tunnels after a break of their WebSocket (on by default). */
  resume: boolean;
}

/** What the editor sends to save an endpoint (new when `id` is absent). */
export interface EndpointInput {
  id?: string;
  name: string;
  uri: string;
  user: string;
  /**
   * The secret to store: `undefined` keeps the stored one, `''` removes it,
   * anything else replaces it.
   */
  secret?: string;
  keepaliveSec: number;
  /** Undefined keeps the stored setting ('system' for a new endpoint). */
  proxy?: ProxySetting;
  /** Undefined keeps the stored setting (none for a new endpoint). */
  trust?: EndpointTrust;
  /** Undefined keeps the stored setting (Windows sign-in for a new endpoint). */
  proxyAuth?: ProxyAuthSetting;
  /**
   * The proxy password: `undefined` keeps the stored one (only for the same
   * proxy and user: another proxy or user never gets it), `''` removes it.
   */
  proxySecret?: string;
  /**
   * Approves (true) or not (false) the custom proxy for the user's Windows
   * sign-in; `undefined` keeps an approval only for the same proxy.
   */
  proxyWindowsSignIn?: boolean;
  /** The passphrase of `trust.clientPfx`: `undefined` keeps the stored one, `''` removes it. */
  clientPassphrase?: string;
  /** Resume tunnels after a break: undefined keeps the stored setting (on for a new endpoint). */
  resume?: boolean;
}

/** The user's settings, without secrets. */
export interface SettingsView {
  endpoints: EndpointView[];
  activeEndpointId: string | null;
  listen: ListenAddress;
  /** Start the tunnel when the app starts. */
  startTunnelAtLaunch: boolean;
  /** Start the app when the user logs in (Windows login item). */
  startAtLogin: boolean;
  /** Whether PuTTY must sign in to the local proxy (see LocalProxyAuthView). */
  localProxyAuth: LocalProxyAuthMode;
}

/** The settings a user changes outside the endpoint editor. */
export type SettingsPatch = Partial<Pick<SettingsView, 'listen' | 'startTunnelAtLaunch' | 'startAtLogin' | 'localProxyAuth'>>;

/**
 * The local proxy credential: 'on' makes every client of the local proxy
 * send the app's generated user and password (HTTP Basic on CONNECT, SOCKS5
 * user/password), so other accounts on a shared machine cannot tunnel with
 * this user's endpoint; 'auto' turns it on only where the app sees a shared
 * machine (a Remote Desktop session).
 */
export type LocalProxyAuthMode = 'off' | 'on' | 'auto';

export interface LocalProxyAuthView {
  mode: LocalProxyAuthMode;
  /** Whether clients must sign in now. */
  on: boolean;
  /** Why it is on or off, for the Status view. */
  why: string;
  /** The user name PuTTY must send; null when off. The password is only given by revealLocalProxyPassword. */
  user: string | null;
}

/** What a new local proxy password changed besides itself. */
export interface PasswordRenewal {
  /** The saved sessions that had the old password and now have the new one, as `PuTTY session "db1"`. */
  updated: string[];
  /** Sessions that could not be read or given the new password, in words. */
  problem?: string;
}

/**
 * stopped: not listening; listening: waiting for PuTTY; active: carrying
 * traffic (at least one open tunnel); reconnecting: at least one tunnel's
 * WebSocket broke and is being resumed (`reconnecting` says how many; the
 * SSH sessions wait); error: something the user must see (`reason`), the
 * proxy may or may not still listen (`running`).
 */
export type TunnelStatus = 'stopped' | 'listening' | 'active' | 'reconnecting' | 'error';

export interface TunnelState {
  status: TunnelStatus;
  /** Whether the local proxy is listening (also in the error state after a failed tunnel). */
  running: boolean;
  /** Why the state is `error`, in words a user can act on. */
  reason?: string;
  /**
   * Where in the app the error is fixed, when it is a setting: e.g. the
   * endpoint's proxy sign-in for a proxy that refused (`Endpoints ▸ NAME ▸
   * Advanced ▸ Proxy sign-in`).
   */
  fix?: string;
  /** The address the proxy listens on, or would listen on when started. */
  listen: ListenAddress;
  /** The active endpoint's name and display URI (never with the secret). */
  endpointName: string | null;
  endpointDisplay: string | null;
  openTunnels: number;
  /** Open tunnels whose WebSocket broke and is being resumed now (counted in `openTunnels` too). */
  reconnecting: number;
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface LogLine {
  seq: number;
  at: number;
  level: LogLevel;
  text: string;
}

/** What "Test" found: an SSH banner and how long it took, or why it failed. */
export type TestResult = { ok: true; banner: string; connectMs: number; totalMs: number } | { ok: false; reason: string; totalMs: number };

/** What "Diagnose" walks: the path through an endpoint to an SSH host, step by step. */
export interface DiagnoseRequest {
  /** The window's name for this run: the steps come back as `diagnosis:step` events with it. */
  run: string;
  /** `host` or `host:port` to reach through the endpoint (port 22 by default). */
  target: string;
  /** The endpoint as currently edited (it may not be saved yet); absent: the active endpoint. */
  endpoint?: EndpointInput;
}

/** One step of a diagnosis, as it completes. */
export interface DiagnosisProgress {
  run: string;
  step: DiagnosisStep;
}

export interface TestRequest {
  /** The endpoint as currently edited (it may not be saved yet). */
  endpoint: EndpointInput;
  /** `host` or `host:port` to reach through the endpoint (port 22 by default). */
  target: string;
}

/** The PuTTY settings that point at this app. */
export interface PuttySettings {
  proxyType: 'HTTP';
  proxyHost: string;
  proxyPort: number;
  /** The user name and password PuTTY must send, when the local proxy credential is on. */
  username?: string;
  password?: string;
  /** The same as text, for the clipboard (with the password, when there is one). */
  text: string;
  /** The text with the password hidden, for the screen; only when there is a password. */
  masked?: string;
}

export interface PuttyExportRequest {
  sessionName: string;
  /** `host` or `host:port`; port 22 by default. */
  target: string;
}

export type PuttyExportResult = { status: 'saved'; path: string } | { status: 'canceled' } | { status: 'failed'; reason: string };

/** What became of a file the user was asked where to save. */
export type FileSaveResult = PuttyExportResult;

/** A certificate as the import confirmation shows it (src/core/dial/profile.ts summarizes it). */
export interface CertificateView {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** `sha256/BASE64`. */
  fingerprint: string;
}

/** Everything importing an endpoint profile (NAME.wssh) would add, for the user to confirm. */
export interface ProfilePreview {
  /** The profile document as offered; sent back unchanged with the import. */
  text: string;
  /** Where it came from, in words: `the file C:\…\gw.wssh`, `a wssh:// link`, `the dropped file gw.wssh`. */
  source: string;
  name: string;
  uri: string;
  /** The user name for Basic auth, or '' (the user types their own secret later). */
  user: string;
  proxy: ProxySetting;
  /** The CA certificates the endpoint will trust, one per PEM block. */
  ca: CertificateView[];
  pins: string[];
  pinOnly: boolean;
  servername: string;
  /** False when the profile turns resuming tunnels after a break off (`"resume": false`). */
  resume: boolean;
  /**
   * A saved endpoint with the same URI: updated only if the user chooses so.
   * `changes`: what the update would change; `dropped`: the stored secrets
   * (and approvals) it would drop, in words, because they would otherwise go
   * where they did not go before (another user, proxy or TLS trust).
   */
  existing: { id: string; name: string; changes: ProfileChange[]; dropped: string[] } | null;
}

/** One setting an update by a profile changes, as a person reads it. */
export interface ProfileChange {
  label: string;
  from: string;
  to: string;
}

/** A profile opened from a file or a link, offered to the window for confirmation; or why it cannot be. */
export type ProfileOffer = { ok: true; preview: ProfilePreview } | { ok: false; source: string; error: string };

export interface ProfileImportRequest {
  text: string;
  source: string;
  /** 'add' adds a new endpoint; 'update' replaces the settings of `updateId`, the endpoint with the profile's URI. */
  mode: 'add' | 'update';
  updateId?: string;
}

/** Something the user must be told that is not a reply to what they just did. */
export interface Notice {
  level: LogLevel;
  title: string;
  text: string;
}

/** The result of an action that can be refused with a message. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Request/response channels (ipcRenderer.invoke / ipcMain.handle): one for each WsshApi method but `on`,
 * and no other. `satisfies` makes a method without a channel (a missing key) or a channel without a method
 * (an unknown key) a compile error; the preload's API object and main's argument checks are typed from the
 * same methods, so neither can drift either.
 */
export const Invoke = {
  getSettings: 'settings:get',
  updateSettings: 'settings:update',
  saveEndpoint: 'endpoints:save',
  duplicateEndpoint: 'endpoints:duplicate',
  deleteEndpoint: 'endpoints:delete',
  restoreEndpoint: 'endpoints:restore',
  selectEndpoint: 'endpoints:select',
  testEndpoint: 'endpoints:test',
  diagnose: 'diagnosis:run',
  checkAdvanced: 'endpoints:check-advanced',
  pickFile: 'dialog:pick-file',
  getTunnelState: 'tunnel:get-state',
  startTunnel: 'tunnel:start',
  stopTunnel: 'tunnel:stop',
  getConnections: 'connections:get',
  getTraffic: 'traffic:get',
  getLog: 'log:get',
  openLogFolder: 'log:open-folder',
  saveDiagnostics: 'diagnosis:save',
  getPuttySettings: 'putty:settings',
  exportPuttySession: 'putty:export',
  getLocalProxyAuth: 'local-proxy-auth:get',
  revealLocalProxyPassword: 'local-proxy-auth:reveal',
  renewLocalProxyPassword: 'local-proxy-auth:renew',
  listSavedSessions: 'sessions:list',
  switchSession: 'sessions:switch',
  switchSessionBack: 'sessions:switch-back',
  copyText: 'clipboard:write',
  previewProfile: 'profiles:preview',
  importProfile: 'profiles:import',
} as const satisfies { readonly [M in InvokeMethod]: string };

/** Events from main to the renderer (webContents.send / ipcRenderer.on). */
export const Events = {
  settingsChanged: 'settings:changed',
  tunnelState: 'tunnel:state',
  connections: 'connections:changed',
  traffic: 'traffic:changed',
  log: 'log:line',
  notice: 'notice',
  showView: 'view:show',
  profileOffered: 'profile:offered',
  diagnosisStep: 'diagnosis:step',
} as const;

/** The views of the window; the tray's menu opens one of them. */
export type ViewName = 'endpoints' | 'status' | 'connections' | 'log';

export interface EventPayloads {
  [Events.settingsChanged]: SettingsView;
  [Events.tunnelState]: TunnelState;
  [Events.connections]: TunnelInfo[];
  [Events.traffic]: TrafficSnapshot;
  [Events.log]: LogLine;
  [Events.notice]: Notice;
  [Events.showView]: ViewName;
  [Events.profileOffered]: ProfileOffer;
  [Events.diagnosisStep]: DiagnosisProgress;
}

export type EventName = keyof EventPayloads;

/** The API the preload script exposes to the renderer as `window.wssh`. */
export interface WsshApi {
  getSettings(): Promise<SettingsView>;
  updateSettings(patch: SettingsPatch): Promise<Outcome<SettingsView>>;
  saveEndpoint(input: EndpointInput): Promise<Outcome<EndpointView>>;
  duplicateEndpoint(id: string): Promise<Outcome<EndpointView>>;
  /** Deletes an endpoint; `restoreEndpoint` with the same id undoes it for a while. */
  deleteEndpoint(id: string): Promise<Outcome<null>>;
  restoreEndpoint(id: string): Promise<Outcome<EndpointView>>;
  selectEndpoint(id: string): Promise<Outcome<null>>;
  testEndpoint(request: TestRequest): Promise<TestResult>;
  /**
   * Walks the path through the endpoint to the host step by step, as `wssh doctor` does: each step
   * comes as a `diagnosis:step` event of `request.run` as it completes, then the whole diagnosis;
   * refused (without a step) for a host that is not one or an endpoint that cannot be used.
   */
  diagnose(request: DiagnoseRequest): Promise<Outcome<Diagnosis>>;
  /** Checks the editor's advanced fields with the core's parsers (pins, server name, proxy URL) as they are typed. */
  checkAdvanced(request: { proxy: ProxySetting; trust: EndpointTrust; proxyAuth?: ProxyAuthSetting }): Promise<AdvancedProblems>;
  /** The system's file picker (for a certificate or key file): the chosen path, or null when cancelled. */
  pickFile(request: PickFileRequest): Promise<string | null>;
  getTunnelState(): Promise<TunnelState>;
  startTunnel(): Promise<TunnelState>;
  stopTunnel(): Promise<TunnelState>;
  getConnections(): Promise<TunnelInfo[]>;
  /** The tunnels' rates of the last second and the last minute's totals (src/shared/traffic.ts). */
  getTraffic(): Promise<TrafficSnapshot>;
  getLog(): Promise<LogLine[]>;
  /** Opens the folder of the log files (the data folder's `logs`) in the file manager: its path, or why not. */
  openLogFolder(): Promise<Outcome<string>>;
  /**
   * Asks where, then writes one text file for an admin: versions, the endpoints' settings with every
   * secret removed, the proxy settings this computer has, the last diagnosis and the last log lines.
   */
  saveDiagnostics(): Promise<FileSaveResult>;
  getPuttySettings(): Promise<PuttySettings>;
  exportPuttySession(request: PuttyExportRequest): Promise<PuttyExportResult>;
  /** Whether the local proxy credential is on, why, and its user name. */
  getLocalProxyAuth(): Promise<LocalProxyAuthView>;
  /** The local proxy password, for "Reveal" and "Copy password"; refused when the credential is off. */
  revealLocalProxyPassword(): Promise<Outcome<string>>;
  /**
   * A new local proxy password for the same user (a running tunnel restarts
   * with it); saved sessions that had the old one get it. Refused when the
   * credential is off.
   */
  renewLocalProxyPassword(): Promise<Outcome<PasswordRenewal>>;
  /** The saved PuTTY, KiTTY and WinSCP sessions and where each goes (src/shared/sessions.ts); reads only. */
  listSavedSessions(): Promise<SavedSessionsView>;
  /** Points a saved session at this app's proxy, keeping its previous proxy values. */
  switchSession(ref: SessionRef): Promise<Outcome<SavedSession>>;
  /** Restores the proxy values a session had before `switchSession`. */
  switchSessionBack(ref: SessionRef): Promise<Outcome<SavedSession>>;
  copyText(text: string): Promise<void>;
  /** Reads a profile (a dropped file's text) and says what importing it would add; changes nothing. */
  previewProfile(text: string, source: string): Promise<Outcome<ProfilePreview>>;
  /** Imports a confirmed profile: adds an endpoint, or updates the one of the same URI when asked. Never selects it or starts a tunnel. */
  importProfile(request: ProfileImportRequest): Promise<Outcome<EndpointView>>;
  /** Subscribes to a main-process event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void;
}

export interface PickFileRequest {
  title: string;
  /** What kind of file, for the picker's filter. */
  kind: 'certificate' | 'key' | 'pfx' | 'ca';
}

/** The WsshApi methods that each go over an invoke channel of their own: all but `on`. Main implements them (src/main/window/appApi.ts). */
export type InvokeApi = Omit<WsshApi, 'on'>;

export type InvokeMethod = keyof InvokeApi;
