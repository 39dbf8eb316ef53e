// IPC is answered only for the app's own window showing the bundled page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { Invoke } from '../../src/shared/ipc';
import { isTrustedSender, registerIpcHandlers } from '../../src/main/ipcHandlers';
import type { InvokeApi } from '../../src/main/appApi';

// The page is served on app:// (src/main/appScheme.ts); its file:// URL is not it.
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
  const api = new Proxy({}, { get: (_t, method) => (...args: unknown[]) => (calls.push([method, ...args]), 'done') }) as InvokeApi;
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
