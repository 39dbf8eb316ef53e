// The scripts' modules import each other one way: no cycle among the files
// of scripts/ (the bench's parts, the harness), counting `import type` too,
// since a cycle of types is a cycle a reader has to untangle as well. Reads
// the sources only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const SCRIPTS = path.join(__dirname, '..', '..', '..', 'scripts');

/** Every .ts file under `dir`, as absolute paths. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The files under scripts/ that `file` imports (relative specifiers only). */
function importsOf(file: string, known: Set<string>): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const found = new Set<string>();
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
    const target = path.resolve(path.dirname(file), match[1]) + '.ts';
    if (known.has(target)) found.add(target);
  }
  return [...found];
}

/** The cycles of the import graph, each as the files in import order (depth-first; one per back edge). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

test('no import cycle among the scripts (the bench, the soak, the harness)', () => {
  const files = sources(SCRIPTS);
  const known = new Set(files);
  const graph = new Map(files.map((file) => [file, importsOf(file, known)]));
  // The graph is read: the bench's report imports its console and statistics modules.
  assert.ok(graph.get(path.join(SCRIPTS, 'bench', 'report.ts'))?.includes(path.join(SCRIPTS, 'bench', 'console.ts')));
  assert.ok(graph.get(path.join(SCRIPTS, 'bench', 'report.ts'))?.includes(path.join(SCRIPTS, 'harness', 'statistics.ts')));
  const named = cycles(graph).map((cycle) => cycle.map((file) => path.relative(SCRIPTS, file)).join(' -> '));
  assert.deepEqual(named, []);
});

test('the cycle finder finds a cycle, types included', () => {
  const graph = new Map([
    ['report', ['busy', 'console']],
    ['busy', ['report']],
    ['console', []],
  ]);
  assert.deepEqual(cycles(graph), [['report', 'busy', 'report']]);
});
