/**
 * "Save diagnostics…": one text file an admin can read (core/doctor/
 * diagnosticsFile.ts): the versions (the app, Electron, Node, Windows), the
 * endpoints' settings with every secret removed, the local proxy, the proxy
 * settings this computer has for each endpoint, the last diagnosis, and the
 * last log lines. Every secret the settings hold (opened and sealed) and the
 * local proxy's credential are scrubbed from the finished text.
 */
import fs from 'node:fs/promises';
import type { EndpointView, FileSaveResult, SettingsView } from '../../shared/ipc';
import { parseEndpoint } from '../../shared/endpoint';
import { KnownSecret, diagnosticsText, proxyEnvironmentLines, proxySecrets, systemVersion } from '../../core/doctor/diagnosticsFile';
import { diagnosisLines } from '../../core/doctor/diagnosisText';
import { displayProxy } from '../../core/upstream/upstreamProxy';
import { proxyQueryUrl } from '../../core/upstream/routes';
import type { SystemProxyAnswer } from '../../core/dial/endpointPlan';
import type { Settings } from '../settings/settingsEditor';
import type { EndpointDiagnoses } from '../tunnel/endpointDiagnosis';
import type { TunnelController } from '../tunnel/tunnelController';
import { fileLine, type LogBook } from './logBook';

/** How many of the last log lines go into the file. */
export const DIAGNOSTICS_LOG_LINES = 300;

export interface DiagnosticsSources {
  settings: Settings;
  controller: TunnelController;
  log: LogBook;
  diagnoses?: EndpointDiagnoses;
  /** The app's, Electron's, … versions; Node's and the system's are added. */
  versions?: Array<[string, string]>;
  /** The system's proxy for a URL (Electron's `session.resolveProxy`). */
  resolveSystemProxy?: SystemProxyAnswer;
  env?: NodeJS.ProcessEnv;
}

/** The file's text, secrets removed. */
export async function appDiagnostics(sources: DiagnosticsSources, now = new Date()): Promise<string> {
  const { settings, controller, log } = sources;
  const view = settings.view();
  const env = sources.env ?? process.env;
  const state = controller.state();
  const last = sources.diagnoses?.last;
  const secrets: KnownSecret[] = [
    ...settings.knownSecrets(),
    ...[controller.proxyCredential()].flatMap((c) => (c ? [{ user: c.user, secret: c.password }] : [])),
    ...Object.entries(env)
      .filter(([name]) => /_proxy$/i.test(name))
      .flatMap(([, value]) => proxySecrets(value)),
  ];
  return diagnosticsText(
    {
      writer: 'the WSSH tray app',
      versions: [...(sources.versions ?? []), ['Node', process.version], ['system', systemVersion()]],
      sections: [
        { title: 'Endpoints', lines: view.endpoints.flatMap((e) => endpointLines(e, view)) },
        {
          title: 'The local proxy',
          lines: [
            `state: ${state.status}${state.reason ? ` (${state.reason})` : ''}, ${state.openTunnels} open tunnels`,
            `listen: ${view.listen.host}:${view.listen.port}`,
            `clients must sign in: ${view.localProxyAuth}`,
          ],
        },
        { title: 'Proxy settings of this computer', lines: [...(await systemProxyLines(view, sources.resolveSystemProxy)), ...proxyEnvironmentLines(env)] },
        { title: last ? `The last diagnosis (${last.name})` : 'The last diagnosis', lines: last ? diagnosisLines(last.diagnosis) : [] },
        {
          title: `The last ${DIAGNOSTICS_LOG_LINES} log lines`,
          lines: log
            .lines()
            .slice(-DIAGNOSTICS_LOG_LINES)
            .map((l) => fileLine(l).trimEnd()),
        },
      ],
    },
    secrets,
    now,
  );
}

function endpointLines(e: EndpointView, view: SettingsView): string[] {
  const proxy = e.proxy === 'system' ? 'the system settings' : e.proxy === 'none' ? 'none (direct)' : shownProxy(e.proxy.url);
  const signIn = e.proxyAuth.mode === 'windows' ? 'the Windows sign-in' : `${e.proxyAuth.user}${e.hasProxySecret ? ' (password stored, not shown)' : ''}`;
  const trust = Object.entries(e.trust).map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`);
  return [
    `${e.name}${e.id === view.activeEndpointId ? ' (active)' : ''}: ${e.uri}`,
    `  user: ${e.user || '(none)'}${e.hasSecret ? ', secret stored (not shown)' : ''}; keepalive ${e.keepaliveSec} s`,
    `  proxy: ${proxy}; proxy sign-in: ${signIn}`,
    `  trust: ${trust.join('; ') || 'the default CAs'}${e.hasClientPassphrase ? '; client certificate passphrase stored (not shown)' : ''}`,
  ];
}

function shownProxy(url: string): string {
  try {
    return displayProxy(new URL(url));
  } catch {
    return '(not a URL)';
  }
}

/** What the system's settings (PAC included) answer for each endpoint that follows them. */
async function systemProxyLines(view: SettingsView, ask: SystemProxyAnswer | undefined): Promise<string[]> {
  if (!ask) return ['the system proxy settings cannot be asked here'];
  const lines: string[] = [];
  for (const e of view.endpoints.filter((x) => x.proxy === 'system')) {
    let url: string;
    try {
      url = proxyQueryUrl(parseEndpoint(e.uri));
    } catch {
      continue;
    }
    try {
      lines.push(`for ${url}: ${await ask(url)}`);
    } catch (err) {
      lines.push(`for ${url}: cannot be asked (${(err as Error).message})`);
    }
  }
  return lines;
}

/** Asks where, and writes the file there. */
export async function saveAppDiagnostics(sources: DiagnosticsSources, choosePath: (name: string) => Promise<string | undefined>): Promise<FileSaveResult> {
  const now = new Date();
  const file = await choosePath(`wssh-diagnostics-${now.toISOString().slice(0, 19).replace(/[T:]/g, '-')}.txt`);
  if (file === undefined) return { status: 'canceled' };
  try {
    await fs.writeFile(file, await appDiagnostics(sources, now));
  } catch (err) {
    return { status: 'failed', reason: `cannot write ${file}: ${(err as Error).message}` };
  }
  sources.log.add('info', `diagnostics saved to ${file}`);
  return { status: 'saved', path: file };
}
