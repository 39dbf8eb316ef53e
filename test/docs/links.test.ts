// The guides hold together: every relative link between README.md,
// SECURITY.md, CHANGELOG.md and docs/*.md reaches a file that exists, and
// every #anchor names a heading of its file as GitHub slugs it (a heading
// renamed without its links is a broken link a reader meets, not a test);
// and docs/cli.md names every option that each command's --help prints, so
// an option added to src/cli/commands.ts without its page fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const REPO = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli', 'wssh.js');

/** The documents whose links are checked, relative to the checkout. */
function documents(): string[] {
  const guides = fs
    .readdirSync(path.join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', 'SECURITY.md', 'CHANGELOG.md', ...guides.sort()];
}

/** The text outside fenced code blocks, line for line (code lines blanked, so line numbers stay). */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) {
      fence = marker[0].repeat(marker.length);
      return '';
    }
    if (fence !== undefined) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    return line;
  });
}

/** A line without its inline code spans (which may hold brackets that are no link). */
function withoutCode(line: string): string {
  return line.replace(/(`+)[\s\S]*?\1/g, (span) => span.replace(/[^`]/g, ' '));
}

/**
 * GitHub's anchor for a heading (github-slugger): the rendered text in lower
 * case, without what is not a letter, digit, `_`, `-` or space, spaces as
 * `-`; a repeated slug gets `-1`, `-2`, … in order.
 */
function slug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // HTML tags
    .replace(/[`*]/g, ''); // code and emphasis marks
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs, and explicit `id`/`name` attributes. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(fs.readFileSync(file, 'utf8'))) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<[^>]+\s(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}

interface Link {
  /** The document it is in, relative to the checkout. */
  from: string;
  line: number;
  target: string;
}

/** The inline links and images of a document (`[text](target)`, `![alt](target)`), outside code. */
function linksOf(doc: string): Link[] {
  const links: Link[] = [];
  proseLines(fs.readFileSync(path.join(REPO, doc), 'utf8')).forEach((line, i) => {
    for (const m of withoutCode(line).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ from: doc, line: i + 1, target: m[1] });
    }
  });
  return links;
}

/** What is wrong with a link, or undefined when it resolves. External links are not fetched. */
function brokenReason(link: Link, anchorCache: Map<string, Set<string>>): string | undefined {
  if (/^[a-z][a-z\d+.-]*:/i.test(link.target)) return undefined;
  const hash = link.target.indexOf('#');
  const filePart = hash < 0 ? link.target : link.target.slice(0, hash);
  const anchor = hash < 0 ? undefined : decodeURIComponent(link.target.slice(hash + 1));
  const file = filePart === '' ? path.join(REPO, link.from) : path.resolve(REPO, path.dirname(link.from), decodeURIComponent(filePart));
  if (path.relative(REPO, file).startsWith('..')) return 'points outside the checkout';
  if (!fs.existsSync(file)) return `no such file: ${path.relative(REPO, file)}`;
  if (anchor === undefined) return undefined;
  if (!file.endsWith('.md')) return `an anchor into a file that is not Markdown: ${path.relative(REPO, file)}`;
  let anchors = anchorCache.get(file);
  if (!anchors) anchorCache.set(file, (anchors = anchorsOf(file)));
  if (!anchors.has(anchor)) return `no heading "#${anchor}" in ${path.relative(REPO, file)}`;
  return undefined;
}

test('heading slugs are GitHub\'s', () => {
  assert.equal(slug('Signing in to the proxy: Negotiate, NTLM, Basic'), 'signing-in-to-the-proxy-negotiate-ntlm-basic');
  assert.equal(slug('`--proxy system` on Windows'), '--proxy-system-on-windows');
  assert.equal(slug('hosts.yml'), 'hostsyml');
  assert.equal(slug('Web pages (Origin)'), 'web-pages-origin');
  assert.equal(slug("The local proxy's answers"), 'the-local-proxys-answers');
  assert.equal(slug('WSSH — SSH over WebSocket'), 'wssh--ssh-over-websocket');
  assert.equal(slug('Light and dark, 200%'), 'light-and-dark-200');
  assert.equal(slug('[0.1.0] — not yet tagged'), '010--not-yet-tagged');
});

test('every relative link and anchor between the guides resolves', () => {
  const docs = documents();
  const anchorCache = new Map<string, Set<string>>();
  const links = docs.flatMap(linksOf);
  // A parser that found nothing would pass vacuously.
  assert.ok(links.filter((l) => !/^[a-z][a-z\d+.-]*:/i.test(l.target)).length > 100, `only ${links.length} links found`);
  const broken = links.flatMap((link) => {
    const reason = brokenReason(link, anchorCache);
    return reason ? [`${link.from}:${link.line}: (${link.target}) ${reason}`] : [];
  });
  assert.deepEqual(broken, []);
});

test('the README links every guide, SECURITY.md and CHANGELOG.md', () => {
  const linked = new Set(linksOf('README.md').map((l) => path.normalize(l.target.split('#')[0])));
  const missing = documents().filter((doc) => doc !== 'README.md' && !linked.has(path.normalize(doc)));
  assert.deepEqual(missing, []);
});

/** Each --help the CLI prints, and the section of docs/cli.md that must name its options. */
const HELPS: Array<{ args: string[]; section: string }> = [
  { args: ['--help'], section: 'Every command' },
  { args: ['server', '--help'], section: 'wssh server' },
  { args: ['connect', '--help'], section: 'wssh connect' },
  { args: ['client', '--help'], section: 'wssh client' },
  { args: ['profile', '--help'], section: 'wssh profile' },
  { args: ['profile', 'create', '--help'], section: 'wssh profile' },
  { args: ['profile', 'show', '--help'], section: 'wssh profile' },
  { args: ['profile', 'link', '--help'], section: 'wssh profile' },
];

/** The text of docs/cli.md under the `###` heading `title`, to the next heading of level 1 to 3. */
function cliSection(title: string): string {
  const lines = fs.readFileSync(path.join(REPO, 'docs', 'cli.md'), 'utf8').split('\n');
  const start = lines.findIndex((line) => /^###\s/.test(line) && slug(line.replace(/^###\s+/, '')) === slug(title));
  assert.ok(start >= 0, `docs/cli.md has no "### ${title}" section`);
  const end = lines.findIndex((line, i) => i > start && /^#{1,3}\s/.test(line));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** The options a help text names: every `--long` word, and the short ones listed as `-o, --output`. */
function optionsIn(help: string): string[] {
  const long = [...help.matchAll(/(?<![\w-])--[a-z][a-z\d-]*/g)].map((m) => m[0]);
  const short = [...help.matchAll(/^\s+(-[a-zA-Z]),/gm)].map((m) => m[1]);
  return [...new Set([...long, ...short])];
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('docs/cli.md names every option each command\'s --help prints, in that command\'s section', () => {
  let checked = 0;
  for (const { args, section } of HELPS) {
    const run = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8' });
    assert.equal(run.status, 0, `wssh ${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stdout, /^Usage: wssh/);
    // (profile show and link take no option: their helps name none.)
    const options = optionsIn(run.stdout);
    const text = cliSection(section);
    const missing = options.filter((option) => !new RegExp(`(?<![\\w-])${escape(option)}(?![\\w-])`).test(text));
    assert.deepEqual(missing, [], `wssh ${args.join(' ')}: options its --help prints that docs/cli.md's "${section}" does not name`);
    checked += options.length;
  }
  // server alone prints 19 options; a parser that found few would pass vacuously.
  assert.ok(checked > 60, `only ${checked} options found in the helps`);
});
