/**
 * `--proxy system` and `--pac`: the routes to an endpoint as the user's
 * system or a PAC script says, per dial.
 *
 * On Windows the system's setting is the user's Internet Settings (the
 * registry, see windowsProxySettings.ts): its PAC script (AutoConfigURL) when
 * there is one, else its manual proxy. Elsewhere there is no one system
 * setting, and the environment (HTTPS_PROXY, NO_PROXY) is what programs
 * follow: `system` means the environment there, as without the option.
 *
 * Windows' own behaviour is kept where it matters: a PAC script that cannot
 * be loaded falls back to the manual proxy (or DIRECT) with one log line, as
 * WinINet does; the registry is read again after `cacheMs`, so a change made
 * in the settings dialog applies to new tunnels without a restart.
 */
import type { Endpoint } from '../../shared/endpoint';
import { TunnelError } from '../tunnel/tunnelError';
import { PacError, PacScript, loadPac, type PacOptions } from './pacScript';
import { ProxyDecision, parsePacAnswer, proxyQueryUrl } from './routes';
import { ProxyConfigError, UNUSABLE_PROXY_SETTING } from './upstreamProxy';
import { INTERNET_SETTINGS_KEY, InternetSettings, internetSettingsFrom, manualProxyRoutes } from './windowsProxySettings';
import { RegRunner, RegistryError, queryRegistryKey, windowsRegRunner } from '../windowsRegistry';

/** Decides the proxy (or proxies, or DIRECT) for each dial to an endpoint. */
export type ProxyResolver = (endpoint: Endpoint) => Promise<ProxyDecision>;

/** The routes a loaded PAC script gives for `endpoint`. @throws {TunnelError} 502 PROXY_CONFIG when the script fails or gives nothing usable. */
export async function pacRoutes(pac: PacScript, endpoint: Endpoint): Promise<ProxyDecision> {
  try {
    return parsePacAnswer(await pac.find(proxyQueryUrl(endpoint)), `the PAC file ${pac.source}'s answer`);
  } catch (err) {
    if (err instanceof ProxyConfigError) throw TunnelError.fromConfig('proxy-config', err);
    if (err instanceof PacError) throw new TunnelError('proxy-config', err.message, { code: 'PROXY_CONFIG', setting: UNUSABLE_PROXY_SETTING, cause: err });
    throw err;
  }
}

export interface SystemProxyOptions extends PacOptions {
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** What reads the Internet Settings key. @default windowsRegRunner({ timeoutMs: 5000 }), Windows' own reg.exe */
  reg?: RegRunner;
  /** Told once per change of what happens: the PAC script in use, its failure, the manual proxy. */
  log?: (line: string) => void;
  /** How long the registry's values are used before they are read again, in ms. @default 30000 */
  cacheMs?: number;
}

/** What the system setting is, in words, for the start-up log line. */
export function describeInternetSettings(settings: InternetSettings): string {
  const parts: string[] = [];
  if (settings.autoConfigUrl) parts.push(`the PAC script ${settings.autoConfigUrl}`);
  if (settings.proxyEnable && settings.proxyServer) {
    parts.push(`${parts.length ? 'else ' : ''}the proxy ${settings.proxyServer}${settings.proxyOverride ? ` (not for ${settings.proxyOverride})` : ''}`);
  }
  return parts.length ? parts.join(', ') : 'no proxy (DIRECT)';
}

export interface SystemProxy {
  resolve: ProxyResolver;
  /** The Internet Settings as read now (Windows), or undefined elsewhere. @throws {RegistryError} */
  settings(): Promise<InternetSettings | undefined>;
}

/**
 * The system's proxy. Off Windows, every decision is undefined: the
 * environment's.
 */
export function systemProxy(options: SystemProxyOptions = {}): SystemProxy {
  const platform = options.platform ?? process.platform;
  const reg = options.reg ?? windowsRegRunner({ timeoutMs: 5000 });
  const cacheMs = options.cacheMs ?? 30_000;
  const log = options.log ?? (() => {});
  let cached: { at: number; settings: Promise<InternetSettings> } | undefined;
  let pac: { url: string; script: Promise<PacScript> } | undefined;
  let lastNote = '';
  const note = (line: string) => {
    if (line !== lastNote) log(line);
    lastNote = line;
  };

  const settings = async (): Promise<InternetSettings | undefined> => {
    if (platform !== 'win32') return undefined;
    if (!cached || Date.now() - cached.at >= cacheMs) {
      const reading = queryRegistryKey(INTERNET_SETTINGS_KEY, reg).then(internetSettingsFrom);
      cached = { at: Date.now(), settings: reading };
      reading.catch(() => (cached = undefined)); // a failed read is tried again next time
    }
    return cached.settings;
  };

  const resolve: ProxyResolver = async (endpoint) => {
    let current: InternetSettings | undefined;
    try {
      current = await settings();
    } catch (err) {
      if (err instanceof RegistryError) {
        throw new TunnelError('proxy-config', `cannot read the Windows proxy settings: ${err.message}`, {
          code: 'PROXY_CONFIG',
          setting: UNUSABLE_PROXY_SETTING,
          cause: err,
        });
      }
      throw err;
    }
    if (!current) return undefined;
    try {
      if (current.autoConfigUrl) {
        if (!pac || pac.url !== current.autoConfigUrl) {
          const url = current.autoConfigUrl;
          const script = loadPac(url, options);
          pac = { url, script };
          script.catch(() => {
            if (pac?.script === script) pac = undefined; // fetched again at the next dial
          });
        }
        try {
          const routes = await pacRoutes(await pac.script, endpoint);
          note(`using the Windows PAC script ${current.autoConfigUrl}`);
          return routes;
        } catch (err) {
          if (!(err instanceof PacError)) throw err;
          // WinINet: a PAC script that cannot be loaded leaves the manual setting.
          note(`${err.message}; using the manual proxy setting instead (${describeInternetSettings({ ...current, autoConfigUrl: undefined })})`);
        }
      }
      return manualProxyRoutes(current, endpoint);
    } catch (err) {
      if (err instanceof ProxyConfigError) throw TunnelError.fromConfig('proxy-config', err);
      throw err;
    }
  };
  return { resolve, settings };
}
