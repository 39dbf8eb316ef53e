// The watched config file against the two ways an edit used to go unseen or
// may look unusual: an edit made while the file was first being read (the
// poller took its first look later, so it never saw a change), and Kubernetes'
// update of a mounted ConfigMap, which swaps a `..data` symlink by rename.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WatchedFile, type FileLoader } from '../../server/configFiles/watchedFile';
import { tempDir } from '../fixtures/tmp';
import { KubeletVolume } from '../fixtures/kubeletVolume';

const INTERVAL_MS = 50;

/** Each read's text; `afterRead` runs once, right after the first read (an edit at the worst moment). */
function textLoader(afterRead?: () => void): FileLoader<string, Error> {
  let first = true;
  return {
    load(file) {
      const text = fs.readFileSync(file, 'utf8');
      if (first) {
        first = false;
        afterRead?.();
      }
      return text;
    },
    asError: (thrown) => (thrown instanceof Error ? thrown : new Error(String(thrown))),
    warningType: 'TestWarning',
    noun: 'text',
  };
}

/** The watcher's value once it equals `want`, or a failure after the deadline. */
async function valueBecomes(watched: WatchedFile<string, Error>, want: string, timeoutMs = 10_000): Promise<void> {
  if (watched.value === want) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still ${JSON.stringify(watched.value)} after ${timeoutMs} ms, not ${JSON.stringify(want)}`)), timeoutMs);
    watched.on('reload', (value) => {
      if (value !== want) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

test('an edit made while the file is first read is seen', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'hosts.yml');
  fs.writeFileSync(file, 'first\n');
  // Saved as editors save: a new file renamed over the old, just after the first read.
  const edit = () => {
    fs.writeFileSync(`${file}.tmp`, 'second\n');
    fs.renameSync(`${file}.tmp`, file);
  };
  const watched = new WatchedFile(file, textLoader(edit), { intervalMs: INTERVAL_MS });
  t.after(() => watched.close());
  assert.equal(watched.value, 'first\n');
  await valueBecomes(watched, 'second\n');
});

test('a ConfigMap updated the way the kubelet does it (a new ..data link renamed in) is reloaded', async (t) => {
  const volume = new KubeletVolume(tempDir(t));
  volume.write({ 'hosts.yml': 'before\n' });
  const watched = new WatchedFile(volume.path('hosts.yml'), textLoader(), { intervalMs: INTERVAL_MS });
  t.after(() => watched.close());
  assert.equal(watched.value, 'before\n');

  // The update: a new timestamped folder, a ..data_tmp link to it renamed over ..data, the old folder removed.
  volume.write({ 'hosts.yml': 'after\n' });
  await valueBecomes(watched, 'after\n');
});
