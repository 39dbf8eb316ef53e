/**
 * A dial that takes the ways to the endpoint (upstream/routes.ts: what a PAC
 * script or the system settings give) one after the other, in order.
 *
 * A PAC answer is a list (`PROXY a:3128; PROXY b:3128; DIRECT`): browsers try
 * the next entry when a proxy cannot be reached at all (connection refused,
 * no route, its name does not resolve, or no answer at all within the dial's
 * deadline), not when it answered: a refusal, or a sign-in it asked for. A
 * refusal (407, 403) is the proxy's verdict and is reported as it is; a
 * WSSH server or TLS failure is the endpoint's and would be the same through
 * the next proxy.
 *
 * Each attempt is the dialer's ordinary per-proxy path (upstreamProxy.ts,
 * transport.ts): this module only chooses which.
 */
import type WebSocket from 'ws';
import type { Endpoint } from '../../shared/endpoint';
import { DialOptions, dial } from './dialer';
import { TunnelError } from '../tunnel/tunnelError';
import type { Target } from '../../shared/target';
import { UNUSABLE_PROXY_SETTING } from '../upstream/upstreamProxy';
import type { ProxyRoute, ProxyDecision } from '../upstream/routes';

export interface RoutedDialOptions extends DialOptions {
  /** Told each time a route cannot be reached (or did not answer in time) and the next one is tried; `error` is that route's. */
  onFallback?: (failed: ProxyRoute, reason: string, next: ProxyRoute, error: TunnelError) => void;
}

/**
 * Dials through the first route that can be reached. A decision that is not a
 * list is one dial as before (`undefined`: the environment's proxy). When
 * every route fails, the error is the last one's, naming the ones tried
 * before it.
 */
export async function dialRoutes(endpoint: Endpoint, target: Target, decision: ProxyDecision, options: RoutedDialOptions = {}): Promise<WebSocket> {
  const { onFallback, ...dialOptions } = options;
  if (!Array.isArray(decision)) return dial(endpoint, target, { ...dialOptions, proxy: decision });
  if (decision.length === 0)
    throw new TunnelError('proxy-config', 'no proxy and no DIRECT to reach the endpoint', { code: 'PROXY_CONFIG', setting: UNUSABLE_PROXY_SETTING });
  const failures: string[] = [];
  for (let i = 0; ; i++) {
    const route = decision[i];
    try {
      return await dial(endpoint, target, { ...dialOptions, proxy: route });
    } catch (err) {
      const next = decision[i + 1];
      // Unreachable, or no answer at all in time (PROXY_TIMEOUT); not an
      // answer (a 407 and a sign-in that did not finish, its own 504).
      const unreachable =
        err instanceof TunnelError && (err.refusal === 'proxy-unreachable' || err.code === 'PROXY_UNREACHABLE' || err.code === 'PROXY_TIMEOUT');
      if (!unreachable || next === undefined || options.signal?.aborted) {
        if (failures.length === 0 || !(err instanceof TunnelError)) throw err;
        throw new TunnelError(err.refusal, `${err.message} (tried before: ${failures.join('; ')})`, { code: err.code, setting: err.setting, cause: err });
      }
      failures.push((err as TunnelError).message);
      onFallback?.(route, (err as TunnelError).message, next, err as TunnelError);
    }
  }
}
