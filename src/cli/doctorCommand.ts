/**
 * `wssh doctor`: the path to an endpoint walked step by step with the
 * tunnel's own code (src/core/doctor/), one line per step on stdout (or
 * JSON with --json), and exit code 0 when the path works, 1 when it does not.
 * The endpoint's settings are read exactly as `wssh client` reads them.
 */
import fs from 'node:fs';
import { Endpoint, parseEndpoint, redactUserinfo } from '../shared/endpoint';
import { TargetError, formatTarget, parseTarget, type Target } from '../shared/target';
import type { Diagnosis } from '../shared/diagnosis';
import { planDial } from '../core/dial/endpointPlan';
import type { TrustOptions } from '../core/dial/trust/trust';
import { runDoctor } from '../core/doctor/pathWalk';
import { TunnelError } from '../core/tunnel/tunnelError';
import { UNUSABLE_PROXY_SETTING, parseProxyUrl } from '../core/upstream/upstreamProxy';
import type { DoctorWords } from '../core/doctor/stepWords';
import { diagnosisHeading, diagnosisLines, diagnosisVerdict, stepLines } from '../core/doctor/diagnosisText';
import { KnownSecret, diagnosticsText, proxyEnvironmentLines, proxySecrets, systemVersion } from '../core/doctor/diagnosticsFile';
import { summarizeCertificate } from '../core/dial/profile';
import { version } from './version';
import { CommandValues, UsageError, secondsOption, trustOptions } from './options';
import { proxyChoice, type ProxyChoice } from './proxyChoice';
import { SECRET_ENV, profileSettings } from './profileOption';
import { clientCertificateOption } from './clientCertificateOption';
import { PFX_PASSPHRASE_ENV, describeRefusal } from './configRemedies';

/** The longest `--idle` holds a tunnel by default: past the 5 minutes some proxies allow an idle CONNECT. */
export const DEFAULT_IDLE_MAX_SEC = 360;

/** The target checked when none is given: the path up to the WSSH server is what is checked then. */
const STAND_IN_TARGET = 'localhost';

/** The settings the CLI's fixes point at: its flags. */
export const CLI_WORDS: DoctorWords = {
  proxy: '--proxy URL, --pac URL|FILE or --no-proxy',
  proxySignIn: '--proxy http://USER:PASSWORD@HOST:PORT (http://DOMAIN%5Cuser:PASSWORD@… for NTLM)',
  ca: '--ca FILE',
  pin: '--pin FINGERPRINT',
  servername: '--servername NAME',
  clientCertificate: '--cert FILE --key FILE, or --pfx FILE',
  credentials: 'wss://USER:SECRET@host/… in the endpoint, or WSSH_SECRET with --profile',
  keepalive: '--keepalive SECONDS of wssh connect and wssh client',
  remedy: (message, problem) => describeRefusal(message, problem),
};

interface DoctorInput {
  endpoint: Endpoint;
  target: Target;
  targetGiven: boolean;
  trust: TrustOptions;
  proxyValues: CommandValues;
}

export async function runDoctorCommand(values: CommandValues, positionals: string[]): Promise<number> {
  const input = await doctorInput(values, positionals);
  const { endpoint, target, trust } = input;
  const json = values.json === true;
  const note = (line: string) => process.stderr.write(`wssh: ${line}\n`);
  let proxy: ProxyChoice | undefined;
  let unusable: string | undefined;
  try {
    proxy = await proxyChoice(input.proxyValues, endpoint, note);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // A PAC script that cannot be loaded, the registry that cannot be read: the route step says so.
    unusable = (err as Error).message;
  }
  const plan = planDial({ proxy: proxy?.source ?? { kind: 'none' }, trust, log: note });
  if (unusable !== undefined) {
    plan.resolveProxy = async () => {
      throw new TunnelError('proxy-config', unusable!, { code: 'PROXY_CONFIG', setting: UNUSABLE_PROXY_SETTING });
    };
  }
  const out = (line: string) => process.stdout.write(line + '\n');
  if (!json) out(diagnosisHeading(endpoint.display, input.targetGiven ? formatTarget(target) : `${STAND_IN_TARGET} (no host given: up to the WSSH server)`));
  const idleMaxMs = values['idle-max'] === undefined ? DEFAULT_IDLE_MAX_SEC * 1000 : secondsOption(values, 'idle-max');
  const diagnosis = await runDoctor({
    endpoint,
    target,
    targetGiven: input.targetGiven,
    plan,
    trust,
    routeSource: routeSource(input.proxyValues, values.profile !== undefined),
    words: CLI_WORDS,
    idle: values.idle
      ? { maxMs: idleMaxMs, onProgress: (held, max) => note(`idle tunnel held ${Math.round(held / 1000)} s of at most ${Math.round(max / 1000)} s`) }
      : undefined,
    onStep: (step) => {
      if (!json) stepLines(step).forEach(out);
    },
  });
  if (json) out(JSON.stringify(diagnosis, null, 2));
  else out(diagnosisVerdict(diagnosis));
  if (typeof values.save === 'string') saveDiagnosis(values.save, diagnosis, input, values);
  return diagnosis.ok ? 0 : 1;
}

async function doctorInput(values: CommandValues, positionals: string[]): Promise<DoctorInput> {
  let endpoint: Endpoint;
  let trust: TrustOptions;
  let proxyValues = values;
  let targetText: string | undefined;
  if (values.profile !== undefined) {
    const settings = profileSettings(values);
    ({ endpoint, trust, proxyValues } = settings);
    if (settings.note) process.stderr.write(`wssh: ${settings.note}\n`);
    targetText = positionals[0];
  } else {
    try {
      endpoint = parseEndpoint(positionals[0]);
    } catch (err) {
      throw new UsageError(`endpoint "${redactUserinfo(positionals[0])}": ${(err as Error).message}`);
    }
    trust = trustOptions(values, endpoint);
    targetText = positionals[1];
  }
  if (values['idle-max'] !== undefined && !values.idle) throw new UsageError('--idle-max: only with --idle');
  let target: Target;
  try {
    target = parseTarget(targetText ?? STAND_IN_TARGET);
  } catch (err) {
    if (err instanceof TargetError) throw new UsageError(`target "${targetText}": ${err.message} (give host or host:port)`);
    throw err;
  }
  trust.clientCertificate = await clientCertificateOption(values, endpoint);
  return { endpoint, target, targetGiven: targetText !== undefined, trust, proxyValues };
}

/** Where the route comes from, as the route step says it. */
function routeSource(values: CommandValues, profile: boolean): string {
  const from = profile ? "the profile's proxy mode" : '';
  if (typeof values.pac === 'string') return `the PAC file ${values.pac}`;
  if (values.proxy === 'system') return from || '--proxy system';
  if (values['no-proxy']) return from || '--no-proxy';
  if (typeof values.proxy === 'string') return from || '--proxy';
  return 'the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)';
}

/** `--save FILE`: the diagnostics file, every secret of this run removed (core/doctor/diagnosticsFile.ts). */
function saveDiagnosis(file: string, diagnosis: Diagnosis, input: DoctorInput, values: CommandValues): void {
  const { endpoint, trust } = input;
  const proxy = typeof input.proxyValues.proxy === 'string' ? input.proxyValues.proxy : undefined;
  const cas = [trust.ca ?? []].flat().flatMap((pem) => {
    try {
      return [summarizeCertificate(String(pem))];
    } catch {
      return [];
    }
  });
  const settings = [
    `endpoint: ${endpoint.display}`,
    `user: ${endpoint.credentials ? `${endpoint.credentials.user} (a secret is given)` : '(none)'}`,
    ...(values.profile !== undefined ? [`profile: ${String(values.profile)}`] : []),
    `route: ${routeSource(input.proxyValues, values.profile !== undefined)}${proxy && proxy !== 'system' ? ` (${redactedProxy(proxy)})` : ''}`,
    ...cas.map((ca) => `trusts the CA: ${ca.subject} (${ca.fingerprint}, valid to ${ca.validTo})`),
    `system CA store: ${trust.systemCa ? 'yes' : 'no'}`,
    ...[trust.pin ?? []].flat().map((pin) => `pin: ${pin}${trust.pinOnly ? ' (pin only)' : ''}`),
    ...(trust.servername ? [`TLS server name: ${trust.servername}`] : []),
    ...(trust.clientCertificate ? [`client certificate: ${trust.clientCertificate.source}`] : []),
  ];
  const secrets: KnownSecret[] = [
    ...(endpoint.credentials ? [{ user: endpoint.credentials.user, secret: endpoint.credentials.secret }] : []),
    ...proxySecrets(proxy),
    ...Object.entries(process.env)
      .filter(([name]) => /_proxy$/i.test(name))
      .flatMap(([, value]) => proxySecrets(value)),
    ...[process.env[SECRET_ENV], process.env[PFX_PASSPHRASE_ENV], trust.clientCertificate?.passphrase].filter((s): s is string => !!s),
  ];
  const text = diagnosticsText(
    {
      writer: 'wssh doctor',
      versions: [
        ['wssh', version().replace(/^wssh /, '')],
        ['Node', process.version],
        ['system', systemVersion()],
      ],
      sections: [
        { title: 'The endpoint', lines: settings },
        { title: 'Proxy variables of the environment', lines: proxyEnvironmentLines(process.env) },
        { title: 'The run', lines: diagnosisLines(diagnosis) },
      ],
    },
    secrets,
  );
  try {
    fs.writeFileSync(file, text);
  } catch (err) {
    throw new Error(`--save "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  process.stderr.write(`wssh: diagnostics written to ${file}\n`);
}

function redactedProxy(url: string): string {
  try {
    return parseProxyUrl(url).display;
  } catch {
    return '(not a URL)';
  }
}
