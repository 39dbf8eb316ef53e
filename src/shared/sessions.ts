/**
 * The saved sessions of PuTTY, KiTTY and WinSCP as the Status view shows
 * them, and the requests to switch one to this app's proxy and back
 * (src/main/savedSessions/savedSessions.ts does the work).
 *
 * Runs anywhere (types only).
 */

export type SessionClient = 'putty' | 'kitty' | 'winscp';

/**
 * How a session reaches its host now: through this app's proxy (HTTP,
 * 127.0.0.1 or localhost, this app's port, local host connections proxied),
 * through another proxy, or directly.
 */
export type SessionRoute = 'ours' | 'other-proxy' | 'direct';

export interface SavedSession {
  client: SessionClient;
  /** The registry key's name under the client's Sessions key, as stored (escaped). */
  key: string;
  /** The name as the client shows it (unescaped). */
  name: string;
  /** HostName (and the port when not 22), or '' when the session names none. */
  host: string;
  route: SessionRoute;
  /** The route in words: "HTTP proxy 10.0.0.5:8080", "direct", "this app's proxy". */
  routeText: string;
  /** Whether this app switched it and keeps its previous proxy values for "Switch back". */
  switchedByApp: boolean;
}

export interface SessionClientView {
  client: SessionClient;
  /** "PuTTY", "KiTTY", "WinSCP". */
  label: string;
  sessions: SavedSession[];
}

export interface SavedSessionsView {
  /** The clients whose Sessions key exists; a client that is not installed is not listed. */
  clients: SessionClientView[];
  /** Why nothing could be read (not on Windows, reg.exe failed), in words. */
  problem?: string;
}

export interface SessionRef {
  client: SessionClient;
  key: string;
}
