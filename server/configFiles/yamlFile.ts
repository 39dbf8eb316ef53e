/**
 * What the server's two YAML files (hosts.yml, users.yml) share: reading one
 * with the position of every node, and the error that says where a problem
 * is, as `file:line:column: what is wrong`, so the admin can go straight to
 * it. Each file's own rules (what a key and a value may be) stay with it.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type Document, type Node as YamlNode, type YAMLError } from 'yaml';

/**
 * A file that cannot be used, with where the problem is. The message reads
 * `file:line:column: what is wrong`, or `file: what is wrong` when the file
 * itself cannot be read (and then line and column are undefined).
 */
export class FileProblem extends Error {
  constructor(
    /** What is wrong, without the position prefix. */
    readonly reason: string,
    readonly file: string,
    /** 1-based. */
    readonly line?: number,
    /** 1-based. */
    readonly column?: number,
  ) {
    super(line === undefined ? `${file}: ${reason}` : `${file}:${line}:${column}: ${reason}`);
  }
}

/** How a file's parser makes its own error (a PolicyError, a CredentialsError). */
export type ProblemAt = (reason: string, line: number, column: number) => FileProblem;

export interface ParsedYaml {
  doc: Document.Parsed;
  /** The first syntax error yaml found, if any: the caller words it and fails there. */
  syntaxError?: YAMLError;
  /** Throws the file's error for a problem at `offset` (a node's start, see offsetOf). */
  fail(reason: string, offset: number): never;
  /** The 1-based line of `offset`. */
  lineOf(offset: number): number;
}

/**
 * Parses YAML text, keeping positions. Duplicate keys are not yaml's to
 * report: each file checks them itself, after its own folding of case, and
 * names the line of the first one.
 */
export function parseYaml(text: string, problemAt: ProblemAt): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  return {
    doc,
    syntaxError: doc.errors[0],
    fail: (reason, offset) => {
      const { line, col } = lineCounter.linePos(offset);
      throw problemAt(reason, line, col);
    },
    lineOf: (offset) => lineCounter.linePos(offset).line,
  };
}

/** Where a node starts in the text; 0 for a missing one. */
export function offsetOf(node: unknown): number {
  return (node as YamlNode | null)?.range?.[0] ?? 0;
}

/**
 * The file's text, or the file's error without a position when it cannot be
 * read: the usual reasons in a few words (Node's own message repeats the
 * path), anything else as Node says it.
 */
export function readTextFile(path: string, problem: (reason: string) => FileProblem): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw problem('file not found');
    if (code === 'EACCES' || code === 'EPERM') throw problem('permission denied');
    if (code === 'EISDIR') throw problem('is a directory, not a file');
    throw problem(`cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
}
