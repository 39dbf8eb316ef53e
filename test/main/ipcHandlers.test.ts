// IPC is answered only for the app's own window showing the bundled page, and
// only with arguments of the shape of the method's parameters.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { Invoke, type EndpointInput, type InvokeApi, type InvokeMethod } from '../../src/shared/ipc';
import { isTrustedSender, registerIpcHandlers } from '../../src/main/window/ipcHandlers';

// The page is served on app:// (src/main/window/appScheme.ts); its file:// URL is not it.
const index = 'app://wssh/renderer/index.html';
const mainFrame = { url: index };
const window = { id: 7, mainFrame } as never;

test('only the main frame of the app window, on the bundled page, is trusted', () => {
  assert.equal(isTrustedSender({ sender: { id: 7 }, senderFrame: mainFrame } as never, window, index), true);
  assert.equal(isTrustedSender({ sender: { id: 8 }, senderFrame: mainFrame } as never, window, index), false, 'another window');
  assert.equal(isTrustedSender({ sender: { id: 7 }, senderFrame: { url: mainFrame.url } } as never, window, index), false, 'a subframe');
  const navigated = { url: 'https://evil.example/' };
  assert.equal(isTrustedSender({ sender: { id: 7 }, senderFrame: navigated } as never, { id: 7, mainFrame: navigated } as never, index), false, 'another page');
  assert.equal(isTrustedSender({ sender: { id: 7 }, senderFrame: null } as never, window, index), false);
  const fileFrame = { url: pathToFileURL('/opt/WSSH/resources/app/dist/app/renderer/index.html').href };
  assert.equal(isTrustedSender({ sender: { id: 7 }, senderFrame: fileFrame } as never, { id: 7, mainFrame: fileFrame } as never, index), false, 'file://');
});

test('every API method gets a handler, and untrusted calls are refused', async () => {
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const ipc = {
    handle: (channel: string, fn: (event: unknown, ...args: unknown[]) => unknown) => void handlers.set(channel, fn),
    removeHandler: (channel: string) => void handlers.delete(channel),
  };
  const calls: unknown[][] = [];
  const api = new Proxy(
    {},
    {
      get:
        (_t, method) =>
        (...args: unknown[]) => (calls.push([method, ...args]), 'done'),
    },
  ) as InvokeApi;
  const trusted = new Set<unknown>();
  const unregister = registerIpcHandlers(ipc as never, api, (event) => trusted.has(event));
  assert.deepEqual([...handlers.keys()].sort(), Object.values(Invoke).sort());

  const good = {};
  trusted.add(good);
  assert.equal(await handlers.get('endpoints:select')!(good, 'abc'), 'done');
  assert.deepEqual(calls, [['selectEndpoint', 'abc']]);
  assert.throws(() => handlers.get('tunnel:start')!({}), /IPC refused/);
  assert.equal(calls.length, 1);
  unregister();
  assert.equal(handlers.size, 0);
});

/** ipcMain as the handlers see it, an API that records its calls, and a trusted event. */
function registered() {
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const ipc = {
    handle: (channel: string, fn: (event: unknown, ...args: unknown[]) => unknown) => void handlers.set(channel, fn),
    removeHandler: (channel: string) => void handlers.delete(channel),
  };
  const calls: unknown[][] = [];
  const api = new Proxy(
    {},
    {
      get:
        (_t, method) =>
        (...args: unknown[]) => (calls.push([method, ...args]), 'done'),
    },
  ) as InvokeApi;
  const window = {};
  registerIpcHandlers(ipc as never, api, (event) => event === window);
  const call = async (channel: string, ...args: unknown[]) => handlers.get(channel)!(window, ...args);
  return { call, calls };
}

const endpoint: EndpointInput = {
  id: 'e1',
  name: 'Office',
  uri: 'wss://gw.example.com/ssh',
  user: 'alice',
  secret: undefined,
  keepaliveSec: 30,
  proxy: { url: 'http://proxy.corp:3128' },
  trust: { caFile: 'C:\\ca.pem', systemCa: true, pins: ['sha256/AAAA'], pinOnly: false, servername: 'gw', clientCert: '', clientKey: '', clientPfx: '' },
  proxyAuth: { mode: 'password', user: 'CORP\\alice' },
  proxySecret: 'pw',
  clientPassphrase: '',
};

/** Arguments of the right shape for every method (a new method makes this table not compile until it has some). */
const VALID: { [M in InvokeMethod]: Parameters<InvokeApi[M]> } = {
  getSettings: [],
  updateSettings: [{ listen: { host: '127.0.0.1', port: Number('') }, startTunnelAtLaunch: true, startAtLogin: false, localProxyAuth: 'auto' }],
  saveEndpoint: [endpoint],
  duplicateEndpoint: ['e1'],
  deleteEndpoint: ['e1'],
  restoreEndpoint: ['e1'],
  selectEndpoint: ['e1'],
  testEndpoint: [{ endpoint: { name: 'n', uri: 'ws://a/ssh', user: '', keepaliveSec: 0 }, target: 'db1:2222' }],
  diagnose: [{ run: 'r1', target: 'db1.lan', endpoint }],
  checkAdvanced: [{ proxy: 'system', trust: {} }],
  pickFile: [{ title: 'CA certificates', kind: 'ca' }],
  getTunnelState: [],
  startTunnel: [],
  stopTunnel: [],
  getConnections: [],
  getTraffic: [],
  getLog: [],
  openLogFolder: [],
  saveDiagnostics: [],
  getPuttySettings: [],
  exportPuttySession: [{ sessionName: 'db1', target: 'db1.lan' }],
  getLocalProxyAuth: [],
  revealLocalProxyPassword: [],
  renewLocalProxyPassword: [],
  listSavedSessions: [],
  switchSession: [{ client: 'putty', key: 'db1%20lan' }],
  switchSessionBack: [{ client: 'winscp', key: 'db1' }],
  copyText: ['text'],
  previewProfile: ['{}', 'the dropped file gw.wssh'],
  importProfile: [{ text: '{}', source: 'a wssh:// link', mode: 'update', updateId: 'e1' }],
};

test('every channel passes arguments of the right shape on as they came, and refuses a wrong count of them', async () => {
  const { call, calls } = registered();
  for (const method of Object.keys(Invoke) as InvokeMethod[]) {
    const args: unknown[] = VALID[method];
    assert.equal(await call(Invoke[method], ...args), 'done', method);
    assert.deepEqual(calls.pop(), [method, ...args]);
    const count = args.length === 0 ? 'no arguments' : `${args.length} argument`;
    const refused = new RegExp(`^Error: IPC refused: ${Invoke[method]} takes ${count}.*, not ${args.length + 1}$`);
    await assert.rejects(call(Invoke[method], ...args, 'one more'), refused);
  }
  assert.deepEqual(calls, [], 'a refused call reaches nothing');
});

const PROXY_AUTH = '{ mode: "windows" } or { mode: "password", user: string }';

test('an argument of the wrong shape is refused with what is wrong, and reaches nothing', async () => {
  const { call, calls } = registered();
  const refused: Array<[channel: string, args: unknown[], message: string]> = [
    ['endpoints:select', [42], 'id must be a string, not a number'],
    ['endpoints:delete', [], 'endpoints:delete takes 1 argument (id), not 0'],
    ['profiles:preview', ['{}'], 'profiles:preview takes 2 arguments (text, source), not 1'],
    ['tunnel:start', [true], 'tunnel:start takes no arguments, not 1'],
    ['clipboard:write', [{ toString: 'x' }], 'text must be a string, not an object'],
    ['settings:update', [null], 'patch must be an object, not null'],
    ['settings:update', [{ listen: { host: '127.0.0.1', port: '3122' } }], 'patch.listen.port must be a number, not a string'],
    ['settings:update', [{ listen: { host: '127.0.0.1' } }], 'patch.listen.port is missing'],
    ['settings:update', [{ localProxyAuth: 'maybe' }], 'patch.localProxyAuth must be "off", "on" or "auto", not "maybe"'],
    ['settings:update', [{ startAtLogin: 'yes' }], 'patch.startAtLogin must be true or false, not a string'],
    ['settings:update', [{ endpoints: [] }], 'patch has a field "endpoints" that it cannot have'],
    ['endpoints:save', [{ ...endpoint, uri: undefined }], 'input.uri is missing'],
    ['endpoints:save', [{ ...endpoint, keepaliveSec: '30' }], 'input.keepaliveSec must be a number, not a string'],
    ['endpoints:save', [{ ...endpoint, hasSecret: true }], 'input has a field "hasSecret" that it cannot have'],
    ['endpoints:save', [{ ...endpoint, trust: { pins: 'sha256/AAAA' } }], 'input.trust.pins must be a list, not a string'],
    ['endpoints:save', [{ ...endpoint, trust: { pins: ['sha256/AAAA', 7] } }], 'input.trust.pins[1] must be a string, not a number'],
    ['endpoints:save', [{ ...endpoint, proxy: 'squid' }], 'input.proxy must be "system", "none" or { url: string }'],
    ['endpoints:save', [{ ...endpoint, proxyAuth: { mode: 'password' } }], `input.proxyAuth must be ${PROXY_AUTH}`],
    ['endpoints:save', [['Office']], 'input must be an object, not a list'],
    ['endpoints:test', [{ endpoint: { ...endpoint, secret: 1 }, target: 'db1' }], 'request.endpoint.secret must be a string, not a number'],
    ['endpoints:check-advanced', [{ proxy: 'none' }], 'request.trust is missing'],
    ['dialog:pick-file', [{ title: 'key', kind: 'exe' }], 'request.kind must be "certificate", "key", "pfx" or "ca", not "exe"'],
    ['putty:export', [{ sessionName: 'db1' }], 'request.target is missing'],
    ['sessions:switch', [{ client: 'ssh', key: 'db1' }], 'ref.client must be "putty", "kitty" or "winscp", not "ssh"'],
    ['sessions:switch-back', [{ client: 'putty', key: 'db1', hive: 'HKLM' }], 'ref has a field "hive" that it cannot have'],
    ['profiles:import', [{ text: '{}', source: 's', mode: 'replace' }], 'request.mode must be "add" or "update", not "replace"'],
  ];
  for (const [channel, args, message] of refused) {
    await assert.rejects(call(channel, ...args), { message: `IPC refused: ${message}` }, channel);
  }
  assert.deepEqual(calls, [], 'no method ran');
});
