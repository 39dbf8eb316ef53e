// The IPC contract holds by type: the channel map (Invoke), the preload's API
// object and main's argument checks are compiled against WsshApi, so a method
// without a channel, a channel without a method, or a parameter the argument
// checks do not know is a compile error, not a call that fails in the app.
// Each case compiles the real sources with a change made in memory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { COMPILE_CHECK_OPTIONS } from '../fixtures/compileCheck';

const root = path.resolve(__dirname, '..', '..', '..');
const source = (relative: string) => path.join(root, ...relative.split('/'));
const IPC = 'src/shared/ipc.ts';
const APP_API = 'src/main/window/appApi.ts';

const options = COMPILE_CHECK_OPTIONS;
/** The files that hold the contract together; only they are type-checked (the rest of src/ only parsed), to save time. */
const CHECKED = [IPC, 'src/preload/preload.ts', 'src/main/window/ipcArguments.ts', 'src/main/window/ipcHandlers.ts', APP_API];

/** The compile errors in CHECKED, as `file: message`, with the `changed` files' texts instead of theirs. */
function errors(changed: Record<string, string> = {}): string[] {
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  const overrides = new Map(Object.entries(changed).map(([file, text]) => [source(file), text]));
  // A fresh SourceFile each time: one bound by an earlier program hid errors from the next.
  host.getSourceFile = (file, version, onError) => {
    const text = overrides.get(path.resolve(file));
    return text === undefined ? read(file, version, onError) : ts.createSourceFile(file, text, version);
  };
  const program = ts.createProgram([APP_API, 'src/preload/preload.ts', 'src/main/window/ipcHandlers.ts'].map(source), options, host);
  return CHECKED.flatMap((file) => {
    const sourceFile = program.getSourceFile(source(file));
    if (!sourceFile) return [`${file}: not in the program`];
    return ts.getPreEmitDiagnostics(program, sourceFile).map((d) => `${file}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  });
}

/** `text` with `insert` put after `anchor`, which must be there once. */
function after(text: string, anchor: string, insert: string): string {
  assert.equal(text.split(anchor).length, 2, `one ${JSON.stringify(anchor)}`);
  return text.replace(anchor, anchor + insert);
}

const filesOf = (found: string[]) => [...new Set(found.map((e) => e.slice(0, e.indexOf(':'))))].sort();

test('the contract compiles as it is', () => {
  assert.deepEqual(errors(), []);
});

test('a WsshApi method without a channel does not compile, even when main implements it', () => {
  const ipc = fs.readFileSync(source(IPC), 'utf8');
  const appApi = fs.readFileSync(source(APP_API), 'utf8');
  const found = errors({
    [IPC]: after(ipc, '  copyText(text: string): Promise<void>;\n', '  frobnicate(): Promise<void>;\n'),
    [APP_API]: after(appApi, '    getSettings: async () => settings.view(),\n', '    frobnicate: async () => {},\n'),
  });
  // Invoke lacks its channel, the preload's API object the method, main's table its argument check (and
  // the handlers look both up by method).
  assert.deepEqual(
    filesOf(found),
    ['src/main/window/ipcArguments.ts', 'src/main/window/ipcHandlers.ts', 'src/preload/preload.ts', 'src/shared/ipc.ts'],
    found.join('\n'),
  );
  assert.match(
    found.find((e) => e.startsWith('src/preload/'))!,
    /Property 'frobnicate' is missing in type .* but required in type 'WsshApi'/,
  );
  assert.match(
    found.find((e) => e.startsWith('src/shared/'))!,
    /Property 'frobnicate' is missing/,
  );
});

test('a channel without a WsshApi method does not compile', () => {
  const ipc = fs.readFileSync(source(IPC), 'utf8');
  const found = errors({ [IPC]: after(ipc, "  importProfile: 'profiles:import',\n", "  frobnicate: 'frob:nicate',\n") });
  assert.deepEqual(filesOf(found), ['src/shared/ipc.ts'], found.join('\n'));
  assert.match(found[0], /'frobnicate' does not exist/);
});

test('a parameter field that main does not check does not compile', () => {
  const ipc = fs.readFileSync(source(IPC), 'utf8');
  // Optional: the table without it would still be assignable to the contract, but not the same type.
  const found = errors({ [IPC]: after(ipc, 'export interface EndpointInput {\n', '  comment?: string;\n') });
  assert.deepEqual(filesOf(found), ['src/main/window/ipcArguments.ts'], found.join('\n'));
  // The compiler names the first method of the two (saveEndpoint, testEndpoint) whose check differs.
  assert.match(found.join('\n'), /Type '"saveEndpoint"' is not assignable to type 'never'/);
});
