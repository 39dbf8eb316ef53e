/**
 * The `app://wssh/…` scheme the window's page is loaded from, instead of
 * `file://`: a file:// page may read any file:// URL (and gets the privileges
 * the grantFileProtocolExtraPrivileges fuse turns off), while app:// serves
 * only what is inside the app's own dist/app directory. Plain Node: the path
 * resolution is tested without Electron; windows.ts registers the handler.
 */
import path from 'node:path';

export const APP_SCHEME = 'app';
const APP_HOST = 'wssh';

/** The URL of the renderer's page. */
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/renderer/index.html`;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/**
 * The file under `root` that `url` names, or undefined when it names none:
 * another scheme or host, a broken %-escape, a NUL or backslash, or a path
 * that resolves outside `root` (`..`, `%2e%2e`, an absolute path).
 */
export function resolveAppPath(root: string, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(parsed.pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return undefined;
  const base = path.resolve(root);
  const file = path.resolve(base, '.' + path.posix.normalize('/' + pathname));
  if (!file.startsWith(base + path.sep)) return undefined;
  return file;
}

/** The Content-Type for a file served on app://. */
export function appContentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Documentation the app may open in the user's browser (shell.openExternal):
 * https, these hosts, these path prefixes. Anything else a page asks to open
 * is refused, so a compromised page cannot launch other URLs or programs.
 */
const DOCUMENTATION: ReadonlyArray<{ host: string; pathPrefix: string }> = [
  { host: 'github.com', pathPrefix: '/ukoloff/wssh' },
  { host: 'www.chiark.greenend.org.uk', pathPrefix: '/~sgtatham/putty/' },
  { host: 'the.earth.li', pathPrefix: '/~sgtatham/putty/' },
];

export function isDocumentationUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password || parsed.port) return false;
  return DOCUMENTATION.some(
    (d) => parsed.hostname === d.host && (parsed.pathname === d.pathPrefix || parsed.pathname.startsWith(d.pathPrefix.replace(/\/?$/, '/'))),
  );
}
