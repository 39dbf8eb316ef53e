// No function, method or constructor in src/ or server/ is over 100 lines
// (issue #19): past that, a reader cannot hold one in view, and its parts
// want names of their own. Counted from the line of its first token (after
// any doc comment) to the line of its closing brace. Reads the sources only,
// with the TypeScript compiler's parser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '..', '..', '..');
const MAX_LINES = 100;

/** Every .ts file under `dir`, relative to the repository with '/' separators. */
function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sources(rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

interface Long {
  where: string;
  name: string;
  lines: number;
}

function nameOf(node: ts.FunctionLikeDeclaration, file: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) {
    const owner = node.parent;
    return `${ts.isClassLike(owner) && owner.name ? owner.name.text : 'class'} constructor`;
  }
  if (node.name) return node.name.getText(file);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(file);
  }
  return '(anonymous)';
}

/** The functions of one file that are over MAX_LINES lines. */
function longFunctions(rel: string): Long[] {
  const text = fs.readFileSync(path.join(root, rel), 'utf8');
  const file = ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, true);
  const found: Long[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const end = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > MAX_LINES) {
        found.push({ where: `${rel}:${start + 1}`, name: nameOf(node as ts.FunctionLikeDeclaration, file), lines });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

test(`no function, method or constructor in src/ or server/ is over ${MAX_LINES} lines`, () => {
  const long = [...sources('src'), ...sources('server')].flatMap(longFunctions);
  assert.deepEqual(
    long.map((f) => `${f.where} ${f.name}: ${f.lines} lines`),
    [],
    `split these by what their parts do (at most ${MAX_LINES} lines each)`,
  );
});
