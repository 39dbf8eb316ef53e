/**
 * The window: a header with the tunnel's state and Start/Stop, tabs for the
 * four views, and a notice area. Talks to the main process only through
 * `window.wssh` (src/shared/ipc.ts).
 */
import type { Notice, SettingsView, TunnelState, ViewName, WsshApi } from '../shared/ipc';
import { MAX_PROFILE_BYTES } from '../shared/defaults';
import { statusHeadline } from '../shared/tunnelStatus';
import { EDITOR_LABELS } from '../shared/editorLabels';
import { ConnectionsView } from './connectionsView';
import { h } from './dom';
import { latestOnly } from './latestOnly';
import { EndpointsView } from './endpointsView';
import { LogView } from './logView';
import { ProfileImportDialog } from './profileImportDialog';
import { StatusView } from './statusView';

declare global {
  interface Window {
    wssh: WsshApi;
  }
}

const VIEWS: Array<{ name: ViewName; label: string }> = [
  { name: 'status', label: 'Status' },
  { name: 'endpoints', label: EDITOR_LABELS.endpoints },
  { name: 'connections', label: 'Connections' },
  { name: 'log', label: 'Log' },
];

async function main(): Promise<void> {
  const api = window.wssh;
  const live = document.getElementById('announcer')!;
  const announce = (text: string) => {
    live.textContent = '';
    window.setTimeout(() => (live.textContent = text), 50);
  };

  const endpoints = new EndpointsView(api, announce);
  const status = new StatusView(api, announce);
  const connections = new ConnectionsView();
  const log = new LogView(api);
  const show = tabbedPanels({
    status: status.element,
    endpoints: endpoints.element,
    connections: connections.element,
    log: log.element,
  });
  const renderState = headerState(api, status);
  const renderSettings = settingsPainter(api, endpoints, status);
  const addNotice = noticeArea();

  api.on('tunnel:state', renderState);
  api.on('settings:changed', (settings) => void renderSettings(settings));
  api.on('connections:changed', (rows) => connections.render(rows));
  api.on('traffic:changed', (snapshot) => connections.renderTraffic(snapshot));
  api.on('log:line', (line) => log.add(line));
  api.on('notice', addNotice);
  api.on('view:show', show);
  acceptProfiles(api, announce, () => show('endpoints'));

  renderState(await api.getTunnelState());
  await renderSettings();
  connections.render(await api.getConnections());
  connections.renderTraffic(await api.getTraffic());
  log.setLines(await api.getLog());
  show('status');
  document.body.dataset.ready = 'true';
}

/** The tabs and their panels, one shown at a time; returns what shows one. */
function tabbedPanels(panels: Record<ViewName, HTMLElement>): (name: ViewName) => void {
  const tabs = document.getElementById('tabs')!;
  const main = document.getElementById('main')!;
  const tabButtons = new Map<ViewName, HTMLButtonElement>();
  for (const view of VIEWS) {
    const button = h(
      'button',
      { type: 'button', role: 'tab', id: `tab-${view.name}`, 'aria-controls': `panel-${view.name}`, 'aria-selected': 'false', tabindex: -1 },
      view.label,
    );
    button.addEventListener('click', () => show(view.name));
    tabButtons.set(view.name, button);
    tabs.append(button);
    main.append(
      h('section', { role: 'tabpanel', id: `panel-${view.name}`, 'aria-labelledby': `tab-${view.name}`, hidden: true, tabindex: -1 }, panels[view.name]),
    );
  }
  // Arrow keys move between tabs (WAI-ARIA tabs pattern); Tab goes into the panel.
  tabs.addEventListener('keydown', (event) => {
    const names = VIEWS.map((v) => v.name);
    const current = names.findIndex((n) => tabButtons.get(n) === document.activeElement);
    if (current < 0) return;
    let next = -1;
    if (event.key === 'ArrowRight') next = (current + 1) % names.length;
    else if (event.key === 'ArrowLeft') next = (current - 1 + names.length) % names.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = names.length - 1;
    if (next < 0) return;
    event.preventDefault();
    show(names[next]);
    tabButtons.get(names[next])!.focus();
  });
  function show(name: ViewName): void {
    for (const view of VIEWS) {
      const selected = view.name === name;
      const button = tabButtons.get(view.name)!;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      document.getElementById(`panel-${view.name}`)!.hidden = !selected;
    }
    document.body.dataset.view = name;
  }
  return show;
}

/** The header's state pill and Start/Stop; returns what paints a tunnel state there and in the Status view. */
function headerState(api: WsshApi, status: StatusView): (state: TunnelState) => void {
  const pill = document.getElementById('state-pill')!;
  const headerToggle = document.getElementById('header-toggle') as HTMLButtonElement;
  let running = false;
  headerToggle.addEventListener('click', () => void (running ? api.stopTunnel() : api.startTunnel()));
  return (state) => {
    running = state.running;
    pill.dataset.status = state.status;
    pill.textContent = statusHeadline(state);
    pill.title = state.reason ?? '';
    headerToggle.textContent = state.running ? 'Stop' : 'Start';
    status.renderState(state);
  };
}

/**
 * What paints the settings (pushed, or asked for) in the Endpoints and Status views.
 *
 * The push carries the settings, not the PuTTY settings or the sign-in view made from them, so a refresh
 * still asks for those. Two refreshes can overlap (a second push while the first waits for its answers),
 * and their answers need not come back in order: a refresh that a newer one has overtaken paints nothing,
 * or it would put old settings over new ones.
 */
function settingsPainter(api: WsshApi, endpoints: EndpointsView, status: StatusView): (pushed?: SettingsView) => Promise<void> {
  const newest = latestOnly();
  return async (pushed) => {
    await newest(
      () => Promise.all([pushed ?? api.getSettings(), api.getPuttySettings(), api.getLocalProxyAuth()]),
      ([settings, putty, auth]) => {
        endpoints.render(settings);
        status.renderSettings(settings, putty, auth);
      },
    );
  };
}

/** The notice area: the last three notices, each dismissable; returns what adds one. */
function noticeArea(): (notice: Notice) => void {
  const notices = document.getElementById('notices')!;
  return (notice) => {
    const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss' }, '×');
    const item = h('div', { class: `notice notice-${notice.level}`, role: 'alert' }, h('strong', {}, notice.title), h('span', {}, ` ${notice.text}`), close);
    close.addEventListener('click', () => item.remove());
    notices.append(item);
    while (notices.children.length > 3) notices.firstElementChild!.remove();
  };
}

/**
 * Endpoint profiles: offered by main (a .wssh file opened, a wssh:// link)
 * or dropped on the window; the dialog asks before anything is saved.
 */
function acceptProfiles(api: WsshApi, announce: (text: string) => void, imported: () => void): void {
  const importDialog = new ProfileImportDialog(api, announce, imported);
  document.body.append(importDialog.element);
  api.on('profile:offered', (offer) => importDialog.offer(offer));
  // Without preventDefault on dragover the drop would not be delivered (and
  // Electron would try to open the file as a page, which windows.ts refuses).
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    const source = `the dropped file ${file.name}`;
    if (file.size > MAX_PROFILE_BYTES) {
      importDialog.offer({ ok: false, source, error: `not a WSSH profile: larger than ${MAX_PROFILE_BYTES / 1024} KiB` });
      return;
    }
    void file.text().then(async (text) => {
      const preview = await api.previewProfile(text, source);
      importDialog.offer(preview.ok ? { ok: true, preview: preview.value } : { ok: false, source, error: preview.error });
    });
  });
}

void main();
