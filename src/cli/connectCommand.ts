/** `wssh connect`: the local HTTP CONNECT proxy through one endpoint. */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost, parseEndpoint, plainCredentialsWarning, redactUserinfo } from '../shared/endpoint';
import { ConnectProxy, DEFAULT_PROXY_DRAIN_MS, DEFAULT_PROXY_HOST } from '../core/localProxy/connectProxy';
import { prepareTrust } from '../core/dial/trust/trust';
import { CommandValues, UsageError, secondsOption, trustOptions } from './options';
import { proxyChoice } from './proxyChoice';
import { planDial } from '../core/dial/endpointPlan';
import { clientCertificateOption } from './clientCertificateOption';
import { maxBufferedOption, tunnelBufferOption } from './options';
import { BufferBudget } from '../core/tunnel/bufferBudget';
import { formatListen, parseListen } from './listenAddress';
import { logLine } from './logLine';
import { profileSettings } from './profileOption';
import { describeRefusal } from './configRemedies';

/** Runs the proxy until SIGTERM or SIGINT; `onListening` is told the address once it listens. */
export async function runConnect(values: CommandValues, [uri]: string[], onListening?: (address: AddressInfo) => void): Promise<number> {
  let endpoint;
  let trust;
  let proxyValues = values;
  let profileProxy = false;
  let note: string | undefined;
  let resume = values['no-resume'] !== true;
  if (values.profile !== undefined) {
    ({ endpoint, trust, proxyValues, profileProxy, note, resume } = profileSettings(values));
  } else {
    try {
      endpoint = parseEndpoint(uri);
    } catch (err) {
      throw new UsageError(`endpoint "${redactUserinfo(uri)}": ${(err as Error).message}`);
    }
    trust = trustOptions(values, endpoint);
  }
  const listen = parseListen(String(values.listen), DEFAULT_PROXY_HOST);
  trust.clientCertificate = await clientCertificateOption(values, endpoint);
  const upstream = await proxyChoice(proxyValues, endpoint, logLine, profileProxy);
  // The system store is read now, so that a machine where it cannot be read
  // says so at start rather than at each tunnel.
  if (endpoint.secure) await prepareTrust(trust, new URL(endpoint.url).hostname.replace(/^\[|\]$/g, ''));
  const credential = proxyUserOption(values['proxy-user']);
  // Its log's format (time-stamped), even with --quiet: a route skipped for the
  // next, and Negotiate being off (said once: it is why a sign-in fails).
  const plan = planDial({ proxy: upstream.source, proxyRules: upstream.rules, trust, keepaliveMs: secondsOption(values, 'keepalive'), log: logLine });
  const proxy = new ConnectProxy({
    endpoint,
    credential,
    ...plan.dial,
    resolveProxy: plan.resolveProxy,
    keepaliveMs: plan.keepaliveMs,
    resume,
    budget: new BufferBudget(maxBufferedOption(values)),
    highWaterMark: tunnelBufferOption(values),
  });
  // Also with --quiet: the process itself is in trouble (out of descriptors).
  proxy.on('warning', (line) => logLine(line));
  if (!values.quiet) {
    const t = proxy.tracker;
    t.on('open', (x) => logLine(`tunnel ${x.id} open ${x.client} -> ${x.target}`));
    t.on('close', (x) => logLine(`tunnel ${x.id} closed ${x.target} up=${x.up} down=${x.down} (${x.reason})`));
    // The break and the resume themselves are logged by the tunnel (its lines say why and how long).
    t.on('refused', (x) => logLine(`refused ${x.target || '-'} from ${x.client}: ${x.status} ${describeRefusal(x.reason, x.setting)}`));
  }
  // Without a listener an 'error' (an accept failure) would end the process.
  proxy.on('error', (err) => logLine(`proxy: ${err.message}`));
  // Asked now (a PAC script is run for it), so that the lines after the
  // listen line are written together, as a reader of the log expects them.
  const reaching = await upstream.describe(endpoint);
  // Before the listening line, which tells a supervisor (or a test) that start-up is over.
  if (values.profile !== undefined) logLine(`endpoint, TLS trust and proxy mode from the profile ${values.profile}`);
  if (note) logLine(note);
  let address;
  try {
    address = await proxy.listen(listen.port, listen.host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`${formatListen(listen)} is already in use: is another wssh running? (try --listen)`, { cause: err });
    throw err;
  }
  logLine(`HTTP CONNECT proxy on ${formatListen({ host: address.address, port: address.port })} -> ${endpoint.display} (SOCKS5 and SOCKS4a on the same port)`);
  logLine(reaching);
  if (trust.clientCertificate) logLine(`TLS: presenting the client certificate ${trust.clientCertificate.source} to ${endpoint.display} when asked`);
  if (credential && values['proxy-user'] === 'generate') {
    // On stdout, not in the log: a log line never holds a secret (it may be kept, in --log-file or a journal).
    process.stdout.write(`proxy credential (generated): user ${credential.user}, password ${credential.password}; give both to PuTTY's proxy settings\n`);
  }
  const plain = plainCredentialsWarning(endpoint);
  if (plain) logLine(`warning: ${plain}`);
  if (!isLoopbackHost(address.address)) {
    logLine(
      `warning: listening on ${address.address}, not loopback: other machines can tunnel through this proxy ` +
        `with ${endpoint.credentials ? 'your endpoint credentials' : 'your endpoint'}; listen on 127.0.0.1 unless you mean it`,
    );
  }
  if (trust.pinOnly) {
    logLine(`TLS: trusting only the pinned certificate for ${endpoint.display} (--pin-only: its issuer and name are not checked, its dates are)`);
  }
  onListening?.(address);

  await new Promise<void>((resolve) => {
    const stop = () => proxy.close(DEFAULT_PROXY_DRAIN_MS).then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

/** `--proxy-user USER:PASS`, or `generate` for a random one; undefined when not given. */
function proxyUserOption(value: CommandValues[string]): { user: string; password: string } | undefined {
  if (typeof value !== 'string') return undefined;
  if (value === 'generate') return { user: 'wssh', password: randomBytes(18).toString('base64url') };
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) throw new UsageError('--proxy-user: expected USER:PASSWORD (or "generate")');
  return { user: value.slice(0, colon), password: value.slice(colon + 1) };
}
