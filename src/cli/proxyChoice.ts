/**
 * How `connect` and `client` choose the proxy for each dial: `--proxy URL`,
 * `--no-proxy`, `--proxy system`, `--pac URL|FILE`, or by default the
 * environment, as the source the plan (src/core/dial/endpointPlan.ts) takes.
 * Everything is checked, and a PAC script loaded, before the network is used
 * for a tunnel.
 */
import type { Endpoint } from '../shared/endpoint';
import { PacError, loadPac } from '../core/upstream/pacScript';
import { ProxyDecision, describeRoutes } from '../core/upstream/routes';
import { ProxyResolver, describeInternetSettings, systemProxy } from '../core/upstream/systemProxy';
import { ProxySource, proxyResolver } from '../core/dial/endpointPlan';
import type { ProxySignInRules } from '../core/upstream/upstreamProxy';
import { RegistryError } from '../core/windowsRegistry';
import { TunnelError } from '../core/tunnel/tunnelError';
import { CommandValues, UsageError, effectiveProxy, proxyOption } from './options';
import { describeRefusal } from './configRemedies';

export interface ProxyChoice {
  /** Where each dial's proxy comes from, for the plan. */
  source: ProxySource;
  /** What may be sent to sign in to any proxy (`--proxy-clear-basic`), for the plan. */
  rules?: ProxySignInRules;
  /** Says, for the start-up log, how `endpoint` is reached. */
  describe(endpoint: Endpoint): Promise<string>;
}

/**
 * The proxy options, checked. `log` receives the notes of `--proxy system`
 * (the PAC script used, a fallback to the manual proxy) and a PAC script's alert() texts.
 * `profileProxy`: the proxy URL in `values` is a profile's, not one the user
 * typed, so the user's own sign-in (Kerberos, Windows) does not go to it.
 *
 * @throws {UsageError} for a wrong combination or value.
 * @throws {Error} for a PAC script that cannot be loaded.
 */
export async function proxyChoice(values: CommandValues, endpoint: Endpoint, log: (line: string) => void, profileProxy = false): Promise<ProxyChoice> {
  const choice = await chooseProxy(values, endpoint, log, profileProxy);
  return values['proxy-clear-basic'] === true ? { ...choice, rules: { clearBasicForDomainUser: true } } : choice;
}

async function chooseProxy(values: CommandValues, endpoint: Endpoint, log: (line: string) => void, profileProxy: boolean): Promise<ProxyChoice> {
  const pac = typeof values.pac === 'string' ? values.pac : undefined;
  const system = values.proxy === 'system';
  if (pac !== undefined && (values.proxy !== undefined || values['no-proxy'])) throw new UsageError('--pac and --proxy/--no-proxy: give one of them');
  if (system && values['no-proxy']) throw new UsageError('--proxy and --no-proxy: give one of them');

  if (pac !== undefined) {
    if (pac.trim() === '') throw new UsageError("--pac: give the PAC file's URL or path");
    let script;
    try {
      script = await loadPac(pac.trim(), { log });
    } catch (err) {
      if (err instanceof PacError) throw new Error(`--pac: ${err.message}`, { cause: err });
      throw err;
    }
    const source: ProxySource = { kind: 'pac', script };
    return {
      source,
      describe: async (e) => `reaching ${e.display} as the PAC file ${script.source} says: ${await routesNow(proxyResolver(source), e)}`,
    };
  }

  if (system) {
    const sys = systemProxy({ log });
    const source: ProxySource = { kind: 'system', registry: sys };
    let settings;
    try {
      settings = await sys.settings();
    } catch (err) {
      if (err instanceof RegistryError) throw new Error(`--proxy system: ${err.message}`, { cause: err });
      throw err;
    }
    if (!settings) {
      // Not Windows: the environment is the system's setting.
      const via = effectiveProxy(endpoint, undefined);
      return {
        source,
        describe: async (e) => {
          const reaching = via ? `reaching ${e.display} through the HTTP proxy at ${via.display} (from ${via.source})` : `reaching ${e.display} directly`;
          return `--proxy system: the environment's proxy setting on this system: ${reaching}`;
        },
      };
    }
    return {
      source,
      describe: async (e) =>
        `the Windows proxy settings say ${describeInternetSettings(settings)}: reaching ${e.display} by ${await routesNow(proxyResolver(source), e)}`,
    };
  }

  const setting = proxyOption(values);
  const via = effectiveProxy(endpoint, setting);
  return {
    source:
      setting === false
        ? { kind: 'none' }
        : setting === undefined
          ? { kind: 'environment' }
          : { kind: 'url', url: setting, ...(profileProxy && { windowsSignIn: false }) },
    describe: async (e) =>
      via
        ? `reaching ${e.display} through the HTTP proxy at ${via.display} (from ${via.source === 'option' ? '--proxy' : via.source})`
        : `reaching ${e.display} directly`,
  };
}

async function routesNow(decide: ProxyResolver, endpoint: Endpoint): Promise<string> {
  let decision: ProxyDecision;
  try {
    decision = await decide(endpoint);
  } catch (err) {
    if (err instanceof TunnelError) return `nothing usable yet (${describeRefusal(err.message, err.setting)})`;
    throw err;
  }
  if (decision === undefined) return "the environment's proxy";
  return describeRoutes(Array.isArray(decision) ? decision : [decision]);
}
