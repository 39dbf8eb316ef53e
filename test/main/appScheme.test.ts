// The app:// scheme's path resolution (issue 10: the page is served from
// dist/app only, never file://) and the documentation allow-list for
// shell.openExternal, under plain Node.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { APP_INDEX_URL, appContentType, isDocumentationUrl, resolveAppPath } from '../../src/main/window/appScheme';

const root = path.resolve('/opt/WSSH/resources/app.asar/dist/app');

test('app:// serves files under the app directory', () => {
  assert.equal(resolveAppPath(root, APP_INDEX_URL), path.join(root, 'renderer', 'index.html'));
  assert.equal(resolveAppPath(root, 'app://wssh/renderer/app.js?x=1#y'), path.join(root, 'renderer', 'app.js'));
  assert.equal(resolveAppPath(root, 'app://wssh/renderer/a%20b.css'), path.join(root, 'renderer', 'a b.css'));
  assert.equal(appContentType('x/index.html'), 'text/html; charset=utf-8');
  assert.equal(appContentType('x/y.bin'), 'application/octet-stream');
});

test('path traversal and other schemes or hosts are refused', () => {
  for (const url of [
    'app://wssh/../../etc/passwd',
    'app://wssh/%2e%2e/%2e%2e/etc/passwd',
    'app://wssh/renderer/..%2f..%2f..%2fsettings.json',
    'app://wssh/renderer/..%5c..%5csecret',
    'app://wssh/%00',
    'app://wssh/%E0%A4%A',
    'app://wssh/',
    'app://other/renderer/index.html',
    'file:///etc/passwd',
    'https://wssh/renderer/index.html',
    'not a url',
  ]) {
    const resolved = resolveAppPath(root, url);
    assert.ok(resolved === undefined || resolved.startsWith(root + path.sep), `${url} -> ${resolved}`);
    // ".." is normalised away (by the URL, then by the path): it lands inside the root, or nothing is served.
    if (/%5c|%00|%A$|other|file|https|not|wssh\/$/.test(url)) assert.equal(resolved, undefined, url);
  }
});

test('openExternal only for known documentation', () => {
  assert.equal(isDocumentationUrl('https://github.com/ukoloff/wssh#readme'), true);
  assert.equal(isDocumentationUrl('https://www.chiark.greenend.org.uk/~sgtatham/putty/docs.html'), true);
  for (const url of [
    'http://github.com/ukoloff/wssh',
    'https://github.com/ukoloff/wssh-evil',
    'https://github.com.evil.example/ukoloff/wssh',
    'https://user@github.com/ukoloff/wssh',
    'https://github.com:8443/ukoloff/wssh',
    'file:///C:/Windows/System32/calc.exe',
    'ms-settings:privacy',
    'javascript:alert(1)',
  ]) {
    assert.equal(isDocumentationUrl(url), false, url);
  }
});
