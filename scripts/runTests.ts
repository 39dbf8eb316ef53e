/**
 * `npm test` and its two parts, run on the built tests in dist/test:
 *
 *   node dist/scripts/runTests.js          both parts, the unit part first
 *   node dist/scripts/runTests.js unit     every test outside test/e2e: no Debian package needed, run in parallel
 *   node dist/scripts/runTests.js e2e      test/e2e: the real programs (sshd, nginx, Chromium, wine…), one file at a time
 *
 * Further arguments narrow a part to the files whose path contains one of them
 * (`runTests.js unit relay` runs test/core/relay.test.js).
 *
 * The unit part sets WSSH_TEST_PART=unit, under which scripts/harness/programs.ts
 * refuses to hand out a Debian program: a test that needs one fails there,
 * whatever the machine has installed, and belongs in test/e2e. That is what
 * lets `.ci/run` prove the unit part on a machine with only Node.
 *
 * The end-to-end files run one at a time because each starts real daemons
 * that together would fight over two cores; the unit files are small enough
 * to run two at a time. The last line is the total of both parts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const TEST_ROOT = path.join(__dirname, '..', 'test');
/** Generous: an end-to-end file starts several daemons and may wait on a busy machine. */
const FILE_TIMEOUT_MS = 300_000;

interface Part {
  name: 'unit' | 'e2e';
  /** Test files run at once. */
  concurrency: number;
  includes(relative: string): boolean;
}

const PARTS: Part[] = [
  { name: 'unit', concurrency: 2, includes: (relative) => !relative.startsWith('e2e/') },
  { name: 'e2e', concurrency: 1, includes: (relative) => relative.startsWith('e2e/') },
];

interface Counts {
  pass: number;
  fail: number;
  skipped: number;
  todo: number;
  cancelled: number;
}

/** Every built test file under dist/test, as paths relative to it with '/' separators, sorted. */
function testFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.js')) found.push(path.relative(TEST_ROOT, full).split(path.sep).join('/'));
    }
  };
  walk(TEST_ROOT);
  return found.sort();
}

/**
 * Runs one part under node's test runner (TAP on stdout, passed through) and
 * reads its closing counts (`# pass N`, …).
 */
function runPart(part: Part, files: string[]): Promise<Counts> {
  const args = [
    '--test',
    `--test-concurrency=${part.concurrency}`,
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    '--test-reporter=tap',
    ...files.map((file) => path.join(TEST_ROOT, file)),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, WSSH_TEST_PART: part.name } });
  const counts: Counts = { pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
  let tail = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    const text = tail + chunk.toString('utf8');
    const lines = text.split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) readCount(line, counts);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      readCount(tail, counts);
      // A runner that died before its summary, or failed for a reason of its own, still fails the part.
      if ((code !== 0 || signal) && counts.fail === 0) counts.fail = 1;
      resolve(counts);
    });
  });
}

/** The runner's top-level summary lines: `# pass 12` (no indentation: subtests' own lines are indented). */
function readCount(line: string, counts: Counts): void {
  const match = /^# (pass|fail|skipped|todo|cancelled) (\d+)$/.exec(line.trimEnd());
  if (match) counts[match[1] as keyof Counts] = Number(match[2]);
}

async function main(argv: string[]): Promise<number> {
  const [which = 'all', ...filters] = argv;
  const parts = which === 'all' ? PARTS : PARTS.filter((part) => part.name === which);
  if (parts.length === 0) {
    process.stderr.write(`runTests: unknown part "${which}" (unit, e2e or all)\n`);
    return 2;
  }
  const all = testFiles();
  const total: Counts = { pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
  for (const part of parts) {
    const files = all.filter((file) => part.includes(file) && (filters.length === 0 || filters.some((filter) => file.includes(filter))));
    if (files.length === 0) continue;
    process.stdout.write(`# ${part.name}: ${files.length} test files\n`);
    const counts = await runPart(part, files);
    for (const key of Object.keys(total) as (keyof Counts)[]) total[key] += counts[key];
  }
  if (total.pass + total.fail + total.skipped === 0) {
    process.stderr.write('runTests: no test ran\n');
    return 1;
  }
  const failed = total.fail + total.cancelled;
  process.stdout.write(`\ntests: ${total.pass} passed, ${failed} failed, ${total.skipped} skipped\n`);
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`runTests: ${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    },
  );
}
