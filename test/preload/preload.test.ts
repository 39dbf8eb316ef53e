// The bundled preload script (dist/app/preload.js), run as Electron's sandbox
// runs it: a script whose only require() is 'electron'. Here 'electron' is a
// small object of the test's own with contextBridge and ipcRenderer, so the
// test sees exactly what the page gets as `window.wssh` and what goes over IPC.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { Events, Invoke, WsshApi } from '../../src/shared/ipc';

const bundle = path.resolve(__dirname, '..', '..', 'app', 'preload.js');

function loadPreload() {
  const exposed = new Map<string, unknown>();
  const invoked: unknown[][] = [];
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => (invoked.push([channel, ...args]), `reply:${channel}`),
      on: (channel: string, fn: (...a: unknown[]) => void) => void (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(fn),
      off: (channel: string, fn: (...a: unknown[]) => void) => void listeners.get(channel)?.delete(fn),
    },
  };
  const required: string[] = [];
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
    return electron;
  };
  const module = { exports: {} };
  vm.runInNewContext(fs.readFileSync(bundle, 'utf8'), { require: sandboxRequire, module, exports: module.exports, console });
  return { exposed, invoked, listeners, required };
}

test('the preload exposes window.wssh and nothing else, requiring only electron', () => {
  const { exposed, required } = loadPreload();
  assert.deepEqual([...exposed.keys()], ['wssh']);
  assert.deepEqual([...new Set(required)], ['electron']);
  const api = exposed.get('wssh') as Record<string, unknown>;
  assert.deepEqual(Object.keys(api).sort(), [...Object.keys(Invoke), 'on'].sort());
});

test('each method invokes its channel; events reach listeners without the IPC event; unsubscribe works', async () => {
  const { exposed, invoked, listeners } = loadPreload();
  const api = exposed.get('wssh') as WsshApi;
  assert.equal(await api.selectEndpoint('abc'), 'reply:endpoints:select');
  await api.testEndpoint({ endpoint: { name: 'n', uri: 'ws://a/ssh', user: '', keepaliveSec: 0 }, target: 'db1' });
  assert.deepEqual(invoked[0], ['endpoints:select', 'abc']);
  assert.equal(invoked[1][0], 'endpoints:test');

  const got: unknown[] = [];
  const off = api.on(Events.tunnelState, (state) => got.push(state));
  const [handler] = listeners.get('tunnel:state')!;
  handler({ sender: 'the ipcRenderer' }, { status: 'listening' });
  assert.deepEqual(got, [{ status: 'listening' }], 'the page gets the payload only');
  off();
  assert.equal(listeners.get('tunnel:state')!.size, 0);
  assert.throws(() => api.on('some:other-channel' as never, () => {}), /unknown event/);
});
