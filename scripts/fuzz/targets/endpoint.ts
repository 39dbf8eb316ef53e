/**
 * Endpoint URIs and targets (src/shared/endpoint.ts, target.ts): what a
 * user types in the editor, what `wssh client` is given, what the server
 * reads from the upgrade's path.
 */
import * as fc from 'fast-check';
import { EndpointError, isLoopbackHost, parseEndpoint, parseTunnelUri, tunnelUrl } from '../../../src/shared/endpoint';
import { TargetError, formatTarget, parseHostPort, parseTarget } from '../../../src/shared/target';
import { hostArb, mutatedText, portArb } from '../mutate';
import { holds, onlyErrors, same, type FuzzTarget } from '../target';

const userinfo = fc.option(
  fc
    .tuple(fc.string({ maxLength: 12 }), fc.option(fc.string({ maxLength: 12 }), { nil: undefined }))
    .map(([u, s]) => (s === undefined ? `${encodeURIComponent(u)}@` : `${encodeURIComponent(u)}:${encodeURIComponent(s)}@`)),
  { nil: '' },
);

const bracketed = (host: string) => (host.includes(':') ? `[${host}]` : host);

const uriArb = fc
  .record({
    scheme: fc.constantFrom('ws', 'wss', 'WSS', 'http', 'https', 'ftp'),
    userinfo,
    host: hostArb,
    port: fc.option(portArb, { nil: undefined }),
    path: fc.array(fc.constantFrom('ssh', 'gw', '', 'a%2Fb', 'db1.lan', '%5B%3A%3A1%5D%3A2222', 'x y'), { maxLength: 3 }),
  })
  .map(({ scheme, userinfo, host, port, path }) => `${scheme}://${userinfo}${bracketed(host)}${port === undefined ? '' : `:${port}`}/${path.join('/')}`);

const TOKENS = ['://', '@', ':', '[', ']', '%', '%zz', '?', '#', '/', ' ', '\t', '\u0000', '..', '%3A', 'ws://', 'wss://'];

export const endpointTarget: FuzzTarget<{ uri: string; target: string }> = {
  name: 'endpoint',
  about: 'endpoint URIs and tunnel URIs (parseEndpoint, parseTunnelUri) and targets (parseTarget)',
  arbitrary: fc.record({
    uri: mutatedText(uriArb, TOKENS),
    target: mutatedText(
      fc.tuple(hostArb, fc.option(portArb, { nil: undefined })).map(([h, p]) => (p === undefined ? h : `${bracketed(h)}:${p}`)),
      TOKENS,
    ),
  }),
  testRuns: 3000,
  caseMs: 1000,
  check({ uri, target }) {
    const endpoint = onlyErrors('parseEndpoint', [EndpointError], () => parseEndpoint(uri));
    if (endpoint) {
      // Its URL (no userinfo) reads back as itself; the display never holds the secret.
      const again = parseEndpoint(endpoint.url);
      holds(again.url === endpoint.url && !again.credentials, () => `parseEndpoint(${endpoint.url}) gave ${again.url}`);
      const secret = endpoint.credentials?.secret;
      if (secret && secret !== '***')
        holds(!endpoint.display.includes(`:${encodeURIComponent(secret)}@`), () => `the display ${endpoint.display} holds the secret`);
      onlyErrors('isLoopbackHost', [], () => isLoopbackHost(new URL(endpoint.url).hostname));
    }
    onlyErrors('parseTunnelUri', [EndpointError], () => parseTunnelUri(uri));
    onlyErrors('parseHostPort', [TargetError], () => parseHostPort(target));
    const parsed = onlyErrors('parseTarget', [TargetError], () => parseTarget(target));
    if (!parsed) return;
    // A target has one spelling: formatted and read again, it is the same.
    const text = formatTarget(parsed);
    holds(same(parseTarget(text), parsed), () => `formatTarget then parseTarget changed ${JSON.stringify(parsed)} (via ${text})`);
    if (endpoint) {
      const url = tunnelUrl(endpoint, parsed);
      const back = parseTunnelUri(url);
      holds(same(back.target, parsed) && back.endpoint.url === endpoint.url, () => `tunnelUrl then parseTunnelUri: ${url} gave ${JSON.stringify(back)}`);
    }
  },
};
