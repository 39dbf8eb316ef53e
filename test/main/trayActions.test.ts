// Each tray action does what its menu item says, and the handler's switch is
// exhaustive: with one more kind of action in TrayAction and no case for it,
// src/main/tray/trayActions.ts does not compile (checked with the TypeScript
// compiler on the real sources, the union extended in memory).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { COMPILE_CHECK_OPTIONS } from '../fixtures/compileCheck';
import type { SettingsPatch, TunnelState, ViewName } from '../../src/shared/ipc';
import { trayActionHandler } from '../../src/main/tray/trayActions';

const root = path.resolve(__dirname, '..', '..', '..');

test('every action reaches the app', async () => {
  const done: unknown[] = [];
  const state = { listen: { host: '127.0.0.1', port: 3122 } } as TunnelState;
  const act = trayActionHandler({
    controller: { toggle: async () => (done.push('toggle'), state), state: () => state },
    settings: { selectEndpoint: (id: string) => (done.push(['select', id]), { ok: true, value: null }) },
    show: (view: ViewName) => void done.push(['show', view]),
    clipboard: { writeText: (text: string) => void done.push(['clipboard', text]) },
    updateSettings: async (patch: SettingsPatch) => void done.push(['update', patch]),
    quit: () => void done.push('quit'),
  });
  act({ kind: 'toggle' });
  act({ kind: 'select-endpoint', id: 'e1' });
  act({ kind: 'edit-endpoints' });
  act({ kind: 'show-connections' });
  act({ kind: 'copy-putty-settings' });
  act({ kind: 'start-at-login', enabled: true });
  act({ kind: 'quit' });
  assert.deepEqual(done.slice(0, 4), ['toggle', ['select', 'e1'], ['show', 'endpoints'], ['show', 'connections']]);
  assert.equal((done[4] as string[])[0], 'clipboard');
  assert.match((done[4] as string[])[1], /127\.0\.0\.1[\s\S]*3122/);
  assert.deepEqual(done.slice(5), [['update', { startAtLogin: true }], 'quit']);
});

test('Copy PuTTY proxy settings from the tray includes the local proxy credential when it is on', () => {
  const copied: string[] = [];
  const state = { listen: { host: '127.0.0.1', port: 3122 } } as TunnelState;
  let credential: { user: string; password: string } | undefined = { user: 'wssh-abc', password: 'pw-123' };
  const act = trayActionHandler({
    controller: { toggle: async () => state, state: () => state, proxyCredential: () => credential },
    settings: { selectEndpoint: () => ({ ok: true, value: null }) },
    show: () => {},
    clipboard: { writeText: (text: string) => void copied.push(text) },
    updateSettings: async () => {},
    quit: () => {},
  });
  act({ kind: 'copy-putty-settings' });
  credential = undefined;
  act({ kind: 'copy-putty-settings' });
  assert.match(copied[0], /\n {2}Username: wssh-abc\n {2}Password: pw-123$/);
  assert.doesNotMatch(copied[1], /Username|Password/);
});

test('a new kind of tray action without a case does not compile', () => {
  const menuFile = path.join(root, 'src', 'main', 'tray', 'trayMenu.ts');
  const actionsFile = path.join(root, 'src', 'main', 'tray', 'trayActions.ts');
  const menu = fs.readFileSync(menuFile, 'utf8');
  const marker = "  | { kind: 'quit' };";
  assert.ok(menu.includes(marker), 'the TrayAction union ends with quit');
  const errors = (source: string) => {
    const options = COMPILE_CHECK_OPTIONS;
    const host = ts.createCompilerHost(options);
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (file, version, onError) =>
      path.resolve(file) === menuFile ? ts.createSourceFile(file, source, version) : read(file, version, onError);
    const program = ts.createProgram([actionsFile], options, host);
    return ts.getPreEmitDiagnostics(program, program.getSourceFile(actionsFile)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  };
  assert.deepEqual(errors(menu), [], 'the real sources compile');
  const extended = errors(menu.replace(marker, "  | { kind: 'quit' }\n  | { kind: 'open-docs' };"));
  assert.equal(extended.length, 1, extended.join('\n'));
  assert.match(extended[0], /'\{ kind: "open-docs"; \}' is not assignable to parameter of type 'never'/);
});
