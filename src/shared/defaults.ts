/**
 * The defaults that more than one runtime shows or applies: the CLI (its
 * parser and its --help), the tray app's settings, the renderer's editor and
 * the demo all read these, so changing one here changes every place.
 *
 * Browser-safe on purpose: no Node imports, so the renderer may import it.
 * Core re-exports what it applies (core/tunnel/keepalive.ts, core/localProxy/connectProxy.ts,
 * server/wsshServer.ts); defaults that only one module uses live beside
 * their option there.
 */

/**
 * The WebSocket ping interval, in seconds (`--keepalive`, an endpoint's
 * keepalive): below nginx's default 60 s `proxy_read_timeout`, so an idle
 * tunnel stays open through it.
 */
export const DEFAULT_KEEPALIVE_SEC = 30;

/** The largest keepalive an endpoint may be saved with, in seconds. */
export const MAX_KEEPALIVE_SEC = 3600;

/** Where the local CONNECT/SOCKS proxy listens (`wssh connect --listen`, the tray app): loopback only. */
export const DEFAULT_PROXY_HOST = '127.0.0.1';
export const DEFAULT_PROXY_PORT = 3122;

/** Where the WSSH server listens (`wssh server --listen`): loopback, behind nginx. */
export const DEFAULT_SERVER_HOST = '127.0.0.1';
export const DEFAULT_SERVER_PORT = 4567;

/** The endpoint of a WSSH server on this machine with its defaults (the tray app's first endpoint, the demo). */
export const LOCAL_ENDPOINT_URI = `ws://localhost:${DEFAULT_SERVER_PORT}/ssh`;

/**
 * The largest endpoint profile (NAME.wssh) read, in bytes: a CA chain or two
 * fit many times over. core/dial/profile.ts applies it; the window checks a
 * dropped file's size with it before reading the file.
 */
export const MAX_PROFILE_BYTES = 64 * 1024;
