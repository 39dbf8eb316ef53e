/**
 * The WsshApi (src/shared/ipc.ts) as the main process implements it, over the
 * settings, the tunnel controller and the log. main.ts registers each method
 * as an IPC handler (ipcHandlers.ts), which checks the shape of what the page
 * sent against ipcArguments.ts first: the arguments here have the contract's
 * types. The renderer tests call the same object from Chromium through the
 * same handlers, so the GUI is tested against the real thing, not a stand-in.
 */
import fs from 'node:fs/promises';
import { TargetError, parseTarget } from '../../shared/target';
import type { EventName, EventPayloads, InvokeApi, Outcome, PickFileRequest, SettingsView } from '../../shared/ipc';
import { testEndpoint, EndpointTestOptions } from '../tunnel/endpointCheck';
import { advancedProblems, normalizeTrust } from '../settings/endpointOptions';
import type { LogBook } from './logBook';
import { importProfile, previewProfile, profileCaDir } from '../settings/profileImport';
import { encodeRegFile, puttyProxySettings, puttySessionRegText, regFileName } from '../savedSessions/puttyReg';
import type { LocalProxyAuth } from '../settings/localProxySignIn';
import type { Settings } from '../settings/settingsEditor';
import type { SavedSessions } from '../savedSessions/savedSessions';
import type { TunnelController } from '../tunnel/tunnelController';
import { EndpointDiagnoses } from '../tunnel/endpointDiagnosis';
import { saveAppDiagnostics } from './diagnosticsReport';

/** The answer to asking for the local proxy password while clients need none. */
const PROXY_SIGN_IN_OFF = 'proxy sign-in is off: the proxy needs no password';

export interface AppApiDeps {
  settings: Settings;
  controller: TunnelController;
  log: LogBook;
  clipboard: { writeText(text: string): void };
  /** Asks where to save a file; undefined when the user cancels. */
  chooseSavePath(defaultName: string): Promise<string | undefined>;
  /** Asks for a file to open (a certificate, a key); undefined when the user cancels. */
  chooseOpenPath?(request: PickFileRequest): Promise<string | undefined>;
  /** Applies "Start at login" to the OS (app.setLoginItemSettings). */
  applyStartAtLogin?(enabled: boolean): void;
  /** The saved PuTTY/KiTTY/WinSCP sessions; without it, none are listed. */
  savedSessions?: SavedSessions;
  /** Options for "Test" (the endpoint's own proxy and trust are added per test). */
  testOptions?: Pick<EndpointTestOptions, 'timeoutMs' | 'resolveSystemProxy'>;
  /** The local proxy credential (proxyCredential.ts); without it, the proxy needs no sign-in. */
  localProxyAuth?: LocalProxyAuth;
  /** Where imported profiles' CA certificates are written. @default `profiles` beside the settings file */
  profileCaDir?: string;
  /** The folder of the log files; without it, the log is kept in memory only. */
  logFolder?: string;
  /** Opens a folder in the file manager (Electron's shell.openPath): '' when it did, else why not. */
  openFolder?(folder: string): Promise<string>;
  /** "Diagnose"; without it, one is made with `testOptions`. */
  diagnoses?: EndpointDiagnoses;
  /** Asks where to save the diagnostics file; undefined when the user cancels. Without it, nothing is saved. */
  chooseDiagnosticsPath?(defaultName: string): Promise<string | undefined>;
  /** The app's versions for the diagnostics file (the app's own, Electron's). */
  versions?: Array<[string, string]>;
}

/**
 * The API, from its parts by what they serve. Each part is typed by what it
 * holds (`satisfies Partial<InvokeApi>` gives its methods their parameters'
 * types); that every method of the contract is there is checked here, on
 * the whole.
 */
export function createAppApi(deps: AppApiDeps): InvokeApi {
  deps.diagnoses ??= new EndpointDiagnoses(deps.testOptions);
  const logged = <T>(what: string, outcome: Outcome<T>): Outcome<T> => {
    if (outcome.ok) deps.log.add('info', what);
    return outcome;
  };
  return {
    ...endpointMethods(deps, logged),
    ...tunnelMethods(deps),
    ...localProxySignInMethods(deps),
    ...sessionMethods(deps),
    copyText: async (text) => deps.clipboard.writeText(text),
    ...profileMethods(deps),
  };
}

type Logged = <T>(what: string, outcome: Outcome<T>) => Outcome<T>;

/** The settings and the endpoint editor: saving, copying, deleting, selecting, "Test", the Advanced checks. */
function endpointMethods(deps: AppApiDeps, logged: Logged) {
  const { settings, log } = deps;
  return {
    getSettings: async () => settings.view(),
    updateSettings: async (patch) => {
      const outcome = settings.update(patch);
      if (outcome.ok && patch.startAtLogin !== undefined) deps.applyStartAtLogin?.(patch.startAtLogin);
      return outcome;
    },
    saveEndpoint: async (input) => {
      const outcome = settings.saveEndpoint(input);
      return outcome.ok ? logged(`endpoint "${outcome.value.name}" saved (${outcome.value.uri})`, outcome) : outcome;
    },
    duplicateEndpoint: async (id) => {
      const outcome = settings.duplicateEndpoint(id);
      return outcome.ok ? logged(`endpoint "${outcome.value.name}" added as a copy`, outcome) : outcome;
    },
    deleteEndpoint: async (id) => {
      const name = settings.view().endpoints.find((e) => e.id === id)?.name;
      return logged(`endpoint "${name}" deleted`, settings.deleteEndpoint(id));
    },
    restoreEndpoint: async (id) => {
      const outcome = settings.restoreEndpoint(id);
      return outcome.ok ? logged(`endpoint "${outcome.value.name}" restored`, outcome) : outcome;
    },
    selectEndpoint: async (id) => settings.selectEndpoint(id),
    testEndpoint: async (request) => {
      const resolved = settings.resolveInput(request.endpoint);
      if (!resolved.ok) return { ok: false, reason: resolved.error, totalMs: 0 };
      const result = await testEndpoint(resolved.value.endpoint, request.target, {
        ...deps.testOptions,
        proxy: resolved.value.proxy,
        trust: resolved.value.trust,
        proxyAuth: resolved.value.proxyAuth,
        proxyWindowsSignIn: resolved.value.proxyWindowsSignIn,
        clientPassphrase: resolved.value.clientPassphrase,
      });
      log.add(
        result.ok ? 'info' : 'warn',
        result.ok
          ? `test of ${resolved.value.endpoint.display} to ${request.target}: "${result.banner}" in ${result.totalMs} ms`
          : `test of ${resolved.value.endpoint.display} to ${request.target} failed: ${result.reason}`,
      );
      return result;
    },
    diagnose: async (request) => {
      const resolved = request.endpoint ? settings.resolveInput(request.endpoint) : settings.activeEndpoint();
      if (!resolved.ok) return resolved;
      const outcome = await deps.diagnoses!.run(request.run, resolved.value, request.target);
      if (!outcome.ok) return outcome;
      const diagnosis = outcome.value;
      const broken = diagnosis.steps.find((s) => s.verdict === 'fail');
      const verdict = broken ? `broken at ${broken.step}: ${broken.cause ?? broken.answer}` : 'the path works';
      log.add(broken ? 'warn' : 'info', `diagnosis of ${diagnosis.endpoint} to ${diagnosis.target}: ${verdict}`);
      return outcome;
    },
    checkAdvanced: async (request) => advancedProblems(request.proxy, normalizeTrust(request.trust ?? {}), request.proxyAuth),
    pickFile: async (request) => (await deps.chooseOpenPath?.(request)) ?? null,
  } satisfies Partial<InvokeApi>;
}

/** The tunnel, its connections and traffic, the log, and what PuTTY needs to use it. */
function tunnelMethods(deps: AppApiDeps) {
  const { controller, log } = deps;
  return {
    getTunnelState: async () => controller.state(),
    startTunnel: () => controller.start(),
    stopTunnel: () => controller.stop(),
    getConnections: async () => controller.connections(),
    getTraffic: async () => controller.traffic(),
    getLog: async () => log.lines(),
    saveDiagnostics: async () =>
      deps.chooseDiagnosticsPath
        ? saveAppDiagnostics({ ...deps, resolveSystemProxy: deps.testOptions?.resolveSystemProxy }, deps.chooseDiagnosticsPath)
        : { status: 'failed', reason: 'this build cannot save files' },
    openLogFolder: async () => {
      if (!deps.logFolder || !deps.openFolder) return { ok: false, error: 'this build keeps no log file' };
      const problem = await deps.openFolder(deps.logFolder);
      return problem ? { ok: false, error: `cannot open ${deps.logFolder}: ${problem}` } : { ok: true, value: deps.logFolder };
    },
    getPuttySettings: async () => puttyProxySettings(controller.state().listen, controller.proxyCredential()),
  } satisfies Partial<InvokeApi>;
}

/** The local proxy sign-in of the Status view: whether it is on, its password, a new one. */
function localProxySignInMethods(deps: AppApiDeps) {
  const { settings, log } = deps;
  return {
    getLocalProxyAuth: async () =>
      deps.localProxyAuth?.view() ?? { mode: settings.view().localProxyAuth, on: false, why: 'this build has no proxy sign-in', user: null },
    revealLocalProxyPassword: async () => {
      const credential = deps.localProxyAuth?.credential();
      return credential ? { ok: true, value: credential.password } : { ok: false, error: PROXY_SIGN_IN_OFF };
    },
    renewLocalProxyPassword: async () => {
      const before = deps.localProxyAuth?.credential();
      const after = before && deps.localProxyAuth?.renew();
      if (!before || !after) return { ok: false, error: PROXY_SIGN_IN_OFF };
      log.add('info', `a new proxy sign-in password was made for ${after.user}: clients still using the old one get 407`);
      return { ok: true, value: (await deps.savedSessions?.renewPassword(before, after)) ?? { updated: [] } };
    },
  } satisfies Partial<InvokeApi>;
}

/** PuTTY's sessions: one exported as a .reg file, the saved ones listed and switched to the app and back. */
function sessionMethods(deps: AppApiDeps) {
  const { settings, controller, log } = deps;
  return {
    exportPuttySession: async (request) => {
      const sessionName = request.sessionName.trim();
      if (sessionName === '') return { status: 'failed', reason: 'the session needs a name' };
      let target;
      try {
        target = parseTarget(request.target.trim());
      } catch (err) {
        if (err instanceof TargetError) return { status: 'failed', reason: err.message };
        throw err;
      }
      const file = await deps.chooseSavePath(regFileName(sessionName));
      if (file === undefined) return { status: 'canceled' };
      const text = puttySessionRegText({ sessionName, target, listen: settings.view().listen, credential: controller.proxyCredential() });
      try {
        await fs.writeFile(file, encodeRegFile(text));
      } catch (err) {
        return { status: 'failed', reason: `cannot write ${file}: ${(err as Error).message}` };
      }
      log.add('info', `PuTTY session "${sessionName}" exported to ${file}`);
      return { status: 'saved', path: file };
    },
    listSavedSessions: async () => deps.savedSessions?.list() ?? { clients: [], problem: 'reading saved sessions is not set up' },
    switchSession: async (ref) => {
      if (!deps.savedSessions) return { ok: false, error: 'reading saved sessions is not set up' };
      const outcome = await deps.savedSessions.switchToApp(ref);
      if (!outcome.ok) log.add('warn', outcome.error);
      return outcome;
    },
    switchSessionBack: async (ref) => {
      if (!deps.savedSessions) return { ok: false, error: 'reading saved sessions is not set up' };
      const outcome = await deps.savedSessions.switchBack(ref);
      if (!outcome.ok) log.add('warn', outcome.error);
      return outcome;
    },
  } satisfies Partial<InvokeApi>;
}

/** Endpoint profiles (.wssh): what one would add, and adding it. */
function profileMethods(deps: AppApiDeps) {
  const { settings, log } = deps;
  const caDir = () => deps.profileCaDir ?? profileCaDir(settings.path);
  return {
    previewProfile: async (text, source) => previewProfile({ settings, caDir: caDir() }, text, source),
    importProfile: async (request) => {
      const outcome = importProfile({ settings, caDir: caDir() }, request);
      if (outcome.ok) {
        const done = request.mode === 'update' ? 'updated' : 'added';
        log.add('info', `endpoint "${outcome.value.name}" ${done} from the profile in ${request.source} (${outcome.value.uri}); it is not selected`);
      } else {
        log.add('warn', `profile not imported: ${outcome.error}`);
      }
      return outcome;
    },
  } satisfies Partial<InvokeApi>;
}

/**
 * Keeps the tunnel in step with the settings (a new active endpoint, a new
 * listen address) and forwards every event the renderer listens to.
 * Returns the function that undoes the wiring.
 */
export function wireAppEvents(
  deps: Pick<AppApiDeps, 'settings' | 'controller' | 'log' | 'diagnoses'>,
  send: <E extends EventName>(event: E, payload: EventPayloads[E]) => void,
): () => void {
  const { settings, controller, log } = deps;
  const onSettings = (view: SettingsView) => {
    controller.endpointChanged();
    controller.credentialChanged();
    void controller.listenChanged();
    send('settings:changed', view);
  };
  const onState = (state: EventPayloads['tunnel:state']) => send('tunnel:state', state);
  const onRows = (rows: EventPayloads['connections:changed']) => send('connections:changed', rows);
  const onTraffic = (snapshot: EventPayloads['traffic:changed']) => send('traffic:changed', snapshot);
  const onLine = (line: EventPayloads['log:line']) => send('log:line', line);
  const onProblem = (title: string, text: string) => send('notice', { level: 'error', title, text });
  settings.on('changed', onSettings);
  controller.on('state', onState);
  controller.on('connections', onRows);
  controller.on('traffic', onTraffic);
  controller.on('problem', onProblem);
  log.on('line', onLine);
  const onStep = (progress: EventPayloads['diagnosis:step']) => send('diagnosis:step', progress);
  deps.diagnoses?.on('step', onStep);
  return () => {
    deps.diagnoses?.off('step', onStep);
    settings.off('changed', onSettings);
    controller.off('state', onState);
    controller.off('connections', onRows);
    controller.off('traffic', onTraffic);
    controller.off('problem', onProblem);
    log.off('line', onLine);
  };
}
