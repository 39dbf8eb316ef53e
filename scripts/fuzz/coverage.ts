/**
 * The coverage-guided engine of `npm run fuzz -- --engine coverage`:
 * Jazzer.js (libFuzzer in Node, with Babel instrumentation of the built
 * sources) runs coverageEntry.ts, whose bytes drive each target's own
 * structure-aware generator.
 *
 * Jazzer.js 4's prebuilt module needs glibc 2.38 (Debian 12 has 2.36), and
 * its source build fetches LLVM from GitHub. Jazzer.js 2.1.0 ships its C++
 * sources in the npm package, so it is built here against Debian's
 * libFuzzer (libclang-rt-16-dev, whose archive is built for shared objects):
 * two small stand-ins replace what only Jazzer's patched libFuzzer has (the
 * `_with_pc` compare hooks, which lose their call site, and FuzzerDefs.h).
 * All of it goes into the git-ignored .cache/jazzer/, once; nothing of it is
 * a dependency of the project.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeInput } from './codec';
import { inputFromBytes } from './coverageEntry';
import type { FuzzTarget } from './target';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DIR = path.join(ROOT, '.cache', 'jazzer');
const JAZZER = '@jazzer.js/core@2.1.0';
const FUZZER = path.join(DIR, 'node_modules', '@jazzer.js', 'fuzzer');
const ADDON = path.join(FUZZER, 'build', 'Release', 'jazzerjs.node');
/** Debian's libFuzzer without main(), built position-independent (libclang-rt-N-dev). */
const LIBFUZZER_GLOB = /^llvm-(\d+)$/;

const SHIM = `// Stand-ins for what only Jazzer's patched libFuzzer has: the two _with_pc
// hooks (stock libFuzzer takes the call site itself, so the id Jazzer passes
// is lost), and the death callback under the name stock libFuzzer looks for
// (without it, a finding's input was never written and the exit crashed).
#include <cstdint>
extern "C" {
void __sanitizer_cov_trace_const_cmp8(uint64_t a, uint64_t b);
void __sanitizer_cov_trace_pc_indir(uintptr_t callee);
void __jazzer_set_death_callback(void (*callback)());
void __sanitizer_cov_trace_const_cmp8_with_pc(uintptr_t, uint64_t a, uint64_t b) { __sanitizer_cov_trace_const_cmp8(a, b); }
void __sanitizer_cov_trace_pc_indir_with_pc(void *, uintptr_t callee) { __sanitizer_cov_trace_pc_indir(callee); }
void __sanitizer_set_death_callback(void (*callback)()) { __jazzer_set_death_callback(callback); }
}
`;
const FUZZER_DEFS = `#pragma once
#include <cstddef>
#include <cstdint>
namespace fuzzer {
typedef int (*UserCallback)(const uint8_t *Data, size_t Size);
int FuzzerDriver(int *argc, char ***argv, UserCallback Callback);
}
`;

function libFuzzerArchive(): string | undefined {
  const lib = '/usr/lib';
  const versions = fs.existsSync(lib) ? fs.readdirSync(lib).filter((d) => LIBFUZZER_GLOB.test(d)) : [];
  for (const v of versions.sort().reverse()) {
    const clang = path.join(lib, v, 'lib', 'clang');
    if (!fs.existsSync(clang)) continue;
    for (const c of fs.readdirSync(clang)) {
      const archive = path.join(clang, c, 'lib', 'linux', 'libclang_rt.fuzzer_no_main-x86_64.a');
      if (fs.existsSync(archive)) return archive;
    }
  }
  return undefined;
}

/** Installs Jazzer.js into .cache/jazzer and builds its native module, unless done before. */
export function prepareJazzer(log: (line: string) => void): void {
  if (!fs.existsSync(path.join(FUZZER, 'package.json'))) {
    log(`installing ${JAZZER} into ${DIR} (its install script would download; it is built below instead)`);
    fs.mkdirSync(DIR, { recursive: true });
    execFileSync('npm', ['install', '--prefix', DIR, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', JAZZER], {
      stdio: 'ignore',
    });
  }
  if (fs.existsSync(ADDON)) return;
  const archive = libFuzzerArchive();
  if (!archive) throw new Error('the coverage engine needs libFuzzer built for shared objects and a C++ compiler: apt-get install libclang-rt-16-dev g++');
  const build = path.join(DIR, 'build');
  fs.mkdirSync(path.join(build, 'fuzzer'), { recursive: true });
  fs.writeFileSync(path.join(build, 'shim.cpp'), SHIM);
  fs.writeFileSync(path.join(build, 'fuzzer', 'FuzzerDefs.h'), FUZZER_DEFS);
  fs.mkdirSync(path.dirname(ADDON), { recursive: true });
  const sources = [
    'addon.cpp',
    'fuzzing_sync.cpp',
    'fuzzing_async.cpp',
    'utils.cpp',
    'shared/callbacks.cpp',
    'shared/coverage.cpp',
    'shared/sanitizer_symbols.cpp',
    'shared/tracing.cpp',
  ];
  const nodeHeaders = path.join(path.dirname(process.execPath), '..', 'include', 'node');
  log(`building Jazzer.js's native module against ${archive}`);
  execFileSync(
    'g++',
    [
      '-std=c++17',
      '-O2',
      '-fPIC',
      '-shared',
      '-DNAPI_VERSION=4',
      '-DNAPI_CPP_EXCEPTIONS',
      `-I${nodeHeaders}`,
      `-I${path.join(DIR, 'node_modules', 'node-addon-api')}`,
      `-I${FUZZER}`,
      `-I${build}`,
      ...sources.map((s) => path.join(FUZZER, s)),
      path.join(build, 'shim.cpp'),
      '-Wl,--whole-archive',
      archive,
      '-Wl,--no-whole-archive',
      '-lpthread',
      '-o',
      ADDON,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

export interface CoverageSlice {
  runs: number;
  /** The edges libFuzzer's last status line counted. */
  coverage: number;
  /** Findings: the input each crashing or hanging byte string makes, encoded. */
  findings: Array<{ input: string; output: string }>;
  seconds: number;
}

/** Runs Jazzer.js on `target` for `seconds` from `seed`, its corpus kept in .cache/jazzer/corpus/TARGET. */
export function coverageSlice(target: FuzzTarget, seconds: number, seed: number): Promise<CoverageSlice> {
  const corpus = path.join(DIR, 'corpus', target.name);
  const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), 'wssh-jazzer-'));
  fs.mkdirSync(corpus, { recursive: true });
  const entry = path.join(__dirname, 'coverageEntry.js');
  const dist = path.resolve(__dirname, '..', '..');
  const args = [
    path.join(DIR, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js'),
    entry,
    corpus,
    ...['src', 'server'].flatMap((d) => ['-i', `${path.join(dist, d)}/`]),
    // The targets' own properties are the oracle; the prototype-pollution detector stays on.
    ...['command-injection', 'path-traversal'].flatMap((d) => ['--disable_bug_detectors', d]),
    '--timeout',
    String(Math.max(target.caseMs * 2, 5000)),
    '--',
    `-max_total_time=${Math.max(1, Math.round(seconds))}`,
    `-seed=${seed}`,
    '-rss_limit_mb=2048',
    `-artifact_prefix=${artifacts}/`,
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, WSSH_FUZZ_TARGET: target.name }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-64 * 1024));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', () => {
      const runs = Number(/Done (\d+) runs/.exec(output)?.[1] ?? [...output.matchAll(/^#(\d+)/gm)].pop()?.[1] ?? 0);
      const coverage = Number([...output.matchAll(/cov: (\d+)/g)].pop()?.[1] ?? 0);
      const findings = fs.readdirSync(artifacts).map((file) => ({
        input: encodeInput(inputFromBytes(target, fs.readFileSync(path.join(artifacts, file)))),
        output: output.slice(-4000),
      }));
      fs.rmSync(artifacts, { recursive: true, force: true });
      resolve({ runs, coverage, findings, seconds: (Date.now() - started) / 1000 });
    });
  });
}
