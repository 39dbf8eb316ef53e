/**
 * The hosts.yml policy: which targets the server may connect to, and where.
 *
 * The file is a YAML mapping, in the original wssh format:
 *
 * ```yaml
 * localhost: true              # exact name: allowed as asked
 * db1:2222: true               # exact name and port
 * self: localhost              # mapped to another host (the asked port is kept)
 * legacy: "[::1]:2200"         # mapped to host and port (quote anything starting with "[")
 * /\.lan$/: true               # regex: allowed as asked
 * /^(\w+)\.corp$/i: $1.internal  # regex, case-insensitive, $1..$9 from its groups
 * /^secret/: false             # denied (null / empty is denied too)
 * ```
 *
 * A rule is looked up by the *lookup string*, `formatTarget(requested)`: the
 * bare host for port 22, `host:port` for any other port (`[v6]:port` for
 * IPv6). Exact keys are compared case-insensitively with it and win over
 * regexes; among regexes the last matching one in file order wins, a
 * denying one included. What no rule allows is denied.
 *
 * A consequence to keep in mind when writing rules: since the port is part
 * of the lookup string only when it is not 22, **only port 22 is reachable
 * unless a rule names the port** (`db1:2222: true`) **or a regex matches the
 * `:port` part** (`/^db\d+\.lan(:\d+)?$/`). `/\.lan$/` allows `x.lan` on
 * port 22 and nothing else, as in the original wssh, which only knew port 22.
 *
 * Regexes are case-sensitive unless written `/.../i`, and unanchored unless
 * written with `^`/`$` (`//` matches every name, the original's catch-all).
 * Write deny regexes with `/i`: host names are not case-sensitive, so
 * `/^secret/` alone does not stop `SECRET.lan`.
 *
 * When a mapped host has no port the asked port is kept; when it has one,
 * that port is used.
 *
 * A rule names a *spelling*, not a machine: `localhost: false` beside a
 * catch-all does not stop `127.0.0.1`, nor a DNS name that points at it.
 * (Targets do have one spelling per address: `::ffff:127.0.0.1` is read as
 * `127.0.0.1`, and zone ids and `0.0.0.0`/`::` are refused, see target.ts.)
 * For "whatever the name, never these machines", write an **address rule**:
 * a CIDR key with `false`,
 *
 * ```yaml
 * 127.0.0.0/8: false           # deny-resolved: no target that resolves into loopback
 * ::1/128: false
 * 10.20.0.0/16: false
 * ```
 *
 * Address rules are checked after the name rules allowed a target, against
 * every address its host resolves to (an address target is its own
 * resolution); any address in a denied range refuses it, and the server then
 * connects to the very address it checked, so a DNS answer that changes in
 * between cannot slip through.
 *
 * Regexes run on the lookup string, which is never longer than a target can
 * be (MAX_LOOKUP_LENGTH). A regex with a nested quantifier (`(a+)+`,
 * `(\w*)*`) can take exponential time on a short crafted name and block the
 * server: such rules load with a warning (`warnings`), to be rewritten.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { isAlias, isMap, isScalar, isSeq, type Document } from 'yaml';
import { FileProblem, offsetOf, parseYaml, readTextFile } from '../configFiles/yamlFile';
import { DEFAULT_PORT, formatTarget, parseHostPort, type Target } from '../../src/shared/target';

export type Decision = { allow: true; rule: string; target: Target } | { allow: false; rule: string | null; reason: string };

/**
 * A hosts.yml that cannot be used, with where the problem is: `file:line:column:
 * what is wrong` (FileProblem).
 */
export class PolicyError extends FileProblem {
  override name = 'PolicyError';
}

type Action =
  | { kind: 'allow' }
  | { kind: 'deny' }
  /** A fixed host, port optional (exact keys, or regex values without $n). */
  | { kind: 'map'; host: string; port?: number }
  /** A value with $1..$9, checked when substituted. */
  | { kind: 'template'; template: string };

interface Rule {
  /** The key as written, for decisions and logs. */
  key: string;
  line: number;
  action: Action;
}

interface RegexRule extends Rule {
  regex: RegExp;
}

interface AddressRule {
  key: string;
  line: number;
  range: BlockList;
}

/**
 * The longest lookup string a target can have: a 253-byte name or a
 * bracketed IPv6 address, and ":65535". Longer strings never reach a regex.
 */
export const MAX_LOOKUP_LENGTH = 253 + ':65535'.length;

/**
 * A group that ends in an unbounded quantifier and is itself quantified:
 * `(a+)+`, `(\w*)*`, `(?:x{2,})+`. A heuristic for a load-time warning
 * (`(?:\w+\.)*`, where a literal separates the repeats, is fine and not
 * flagged; overlapping alternations are not found).
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\d*\})\)(?:[+*]|\{\d+,\d*\})/;

/** A CIDR key: an IPv4 or IPv6 address, "/", a prefix length. */
const CIDR_KEY = /^([0-9.]+|[0-9A-Fa-f:.]+)\/(\d{1,3})$/;

const GROUP_REF = /\$([1-9])/g;
const HAS_GROUP_REF = /\$[1-9]/;
// What a template may hold besides $n: the characters of a target.
const TEMPLATE_CHARS = /^[A-Za-z0-9_.\-:[\]%$]*$/;
// YAML 1.1 booleans that YAML 1.2 (and this parser) reads as plain strings:
// `db1: yes` would otherwise map db1 to a host named "yes".
const YAML11_BOOLEANS = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

export class HostsPolicy {
  /** Exact rules by lowercased lookup string. */
  readonly #exact: Map<string, Rule>;
  /** Regex rules in file order. */
  readonly #regexes: RegexRule[];
  /** Address (CIDR) deny rules, checked against what a target resolves to. */
  readonly #addresses: AddressRule[];

  private constructor(
    /** Where the policy came from, as given to {@link HostsPolicy.parse}. */
    readonly source: string,
    exact: Map<string, Rule>,
    regexes: RegexRule[],
    addresses: AddressRule[] = [],
    /** Problems that do not stop the file from loading (`file:line: …`), for the log. */
    readonly warnings: readonly string[] = [],
  ) {
    this.#exact = exact;
    this.#regexes = regexes;
    this.#addresses = addresses;
  }

  /** How many rules the file holds, denying ones included. */
  get ruleCount(): number {
    return this.#exact.size + this.#regexes.length + this.#addresses.length;
  }

  /** Whether the file has address rules, so that targets must be resolved and checked before connecting. */
  get hasAddressRules(): boolean {
    return this.#addresses.length > 0;
  }

  /**
   * The address rule that denies one of `addresses` (what an allowed target
   * resolved to), as a refusal reason; undefined when none does.
   */
  deniedAddress(lookup: string, addresses: readonly string[]): string | undefined {
    for (const address of addresses) {
      const plain = unmapIPv4(address);
      const family = isIPv4(plain) ? 'ipv4' : 'ipv6';
      for (const rule of this.#addresses) {
        if (rule.range.check(plain, family)) {
          return `${lookup} resolves to ${plain}, denied by rule ${rule.key} at line ${rule.line}`;
        }
      }
    }
    return undefined;
  }

  /**
   * Parses hosts.yml text. An empty file (or one with only comments) is a
   * valid policy with no rules: it denies everything, which is the safe
   * reading of "nothing is allowed yet".
   *
   * @param source the file name used in error messages.
   * @throws {PolicyError} for the first problem found, with its position.
   */
  static parse(text: string, source = 'hosts.yml'): HostsPolicy {
    // Duplicates are checked below, after case-folding exact names, so that
    // `DB1` after `db1` is reported too.
    const { doc, syntaxError, fail, lineOf } = parseYaml(text, (reason, line, column) => new PolicyError(reason, source, line, column));
    if (syntaxError) {
      const at = syntaxError.pos[0];
      // yaml's advice for this one names its own API, not the admin's fix.
      const what = syntaxError.code === 'MULTIPLE_DOCS' ? 'more than one YAML document: remove the "---" line' : syntaxError.message;
      fail(what + bracketHint(text, lineOf(at)), at);
    }

    const top = doc.contents;
    // Empty, comments only, or a bare "---": no rules, so nothing is allowed.
    if (top === null || (isScalar(top) && top.value === null)) return new HostsPolicy(source, new Map(), []);
    if (!isMap(top)) {
      return fail(`expected a mapping of host rules (name: true, false or a host), got ${describe(top)}`, offsetOf(top));
    }

    const exact = new Map<string, Rule>();
    const regexes: RegexRule[] = [];
    const addresses: AddressRule[] = [];
    const warnings: string[] = [];
    const seenRegexes = new Map<string, number>();

    for (const pair of top.items) {
      const keyNode = deref(pair.key, doc);
      const keyAt = offsetOf(keyNode);
      const line = lineOf(keyAt);
      const key = keyText(keyNode, (reason) => fail(reason, keyAt));

      const valueNode = deref(pair.value, doc);
      const valueAt = valueNode ? offsetOf(valueNode) : keyAt;
      const value = valueOf(valueNode, key, (reason) => fail(reason, valueAt));

      if (key.startsWith('/')) {
        const regex = compileRegex(key, (reason) => fail(reason, keyAt));
        const first = seenRegexes.get(key);
        if (first !== undefined) fail(`duplicate rule "${key}" (first at line ${first})`, keyAt);
        seenRegexes.set(key, line);
        const action = regexAction(value, key, regex, (reason) => fail(reason, valueAt));
        regexes.push({ key, line, action, regex });
        if (NESTED_QUANTIFIER.test(regex.source)) {
          warnings.push(
            `${source}:${line}: regex ${key} has a nested quantifier (like (a+)+): a crafted name can make it ` +
              'take seconds and block the server; rewrite it without a quantified group that repeats itself',
          );
        }
      } else if (CIDR_KEY.test(key)) {
        if (value !== false && value !== null) {
          fail(`address rule "${key}" can only deny (false): allow targets by name, deny machines by address`, valueAt);
        }
        addresses.push({ key, line, range: parseRange(key, (reason) => fail(reason, keyAt)) });
      } else {
        let name: string;
        try {
          const { host, port } = parseHostPort(key);
          name = formatTarget({ host, port: port ?? DEFAULT_PORT }).toLowerCase();
        } catch (e) {
          return fail(`invalid key "${key}": ${messageOf(e)}`, keyAt);
        }
        const first = exact.get(name);
        if (first) {
          const same = first.key === key ? 'first' : `same name as "${first.key}"`;
          fail(`duplicate rule "${key}" (${same} at line ${first.line})`, keyAt);
        }
        const action = exactAction(value, key, (reason) => fail(reason, valueAt));
        exact.set(name, { key, line, action });
      }
    }
    return new HostsPolicy(source, exact, regexes, addresses, warnings);
  }

  /** Decides whether `requested` may be reached, and where to connect. */
  decide(requested: Target): Decision {
    const lookup = formatTarget(requested);
    const exact = this.#exact.get(lookup.toLowerCase());
    if (exact) return apply(exact, requested, lookup, []);
    // No target is this long; a regex never runs on more (see MAX_LOOKUP_LENGTH).
    if (lookup.length > MAX_LOOKUP_LENGTH) return { allow: false, rule: null, reason: `target longer than ${MAX_LOOKUP_LENGTH} characters` };
    for (let i = this.#regexes.length - 1; i >= 0; i--) {
      const rule = this.#regexes[i];
      const match = rule.regex.exec(lookup);
      if (match) return apply(rule, requested, lookup, match);
    }
    return { allow: false, rule: null, reason: `no rule allows ${lookup}` };
  }
}

/**
 * Reads and parses a policy file synchronously (the server loads it once at
 * start, before listening, and refuses to start on an error).
 *
 * @throws {PolicyError} naming `path`.
 */
export function loadPolicyFile(path: string): HostsPolicy {
  return HostsPolicy.parse(
    readTextFile(path, (reason) => new PolicyError(reason, path)),
    path,
  );
}

function apply(rule: Rule, requested: Target, lookup: string, match: ArrayLike<string | undefined>): Decision {
  const { action } = rule;
  switch (action.kind) {
    case 'allow':
      return { allow: true, rule: rule.key, target: { host: requested.host, port: requested.port } };
    case 'deny':
      return { allow: false, rule: rule.key, reason: `denied by rule ${rule.key} at line ${rule.line}` };
    case 'map':
      return { allow: true, rule: rule.key, target: { host: action.host, port: action.port ?? requested.port } };
    case 'template': {
      const mapped = action.template.replace(GROUP_REF, (_, n: string) => match[Number(n)] ?? '');
      try {
        const { host, port } = parseHostPort(mapped);
        return { allow: true, rule: rule.key, target: { host, port: port ?? requested.port } };
      } catch (e) {
        // The groups matched something that is not a host: the rule cannot
        // say where to go, so nothing is reached.
        return {
          allow: false,
          rule: rule.key,
          reason: `rule ${rule.key} at line ${rule.line} maps ${lookup} to "${mapped}": ${messageOf(e)}`,
        };
      }
    }
  }
}

type Value = boolean | null | string;

/** The rule value as true, false, null (deny) or a host string. */
function valueOf(node: unknown, key: string, fail: (reason: string) => never): Value {
  if (node === null || node === undefined) return null;
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      if (node.type === 'PLAIN' && YAML11_BOOLEANS.test(v)) {
        fail(`value for "${key}" is "${v}": write true or false (quote it if it is a host name)`);
      }
      return v;
    }
  }
  const hint = isScalar(node) && typeof node.value === 'number' ? ' (quote it if it is a host name)' : '';
  return fail(`value for "${key}" must be true, false, null or a host name, got ${describe(node)}${hint}`);
}

function exactAction(value: Value, key: string, fail: (reason: string) => never): Action {
  if (value === true) return { kind: 'allow' };
  if (value === false || value === null) return { kind: 'deny' };
  try {
    return { kind: 'map', ...parseHostPort(value) };
  } catch (e) {
    const hint = HAS_GROUP_REF.test(value) ? ' ($1-$9 only work with /regex/ keys)' : '';
    return fail(`value for "${key}" is not a valid host: ${messageOf(e)}${hint}`);
  }
}

function regexAction(value: Value, key: string, regex: RegExp, fail: (reason: string) => never): Action {
  if (value === true) return { kind: 'allow' };
  if (value === false || value === null) return { kind: 'deny' };
  const refs = [...value.matchAll(GROUP_REF)].map((m) => Number(m[1]));
  if (refs.length === 0) {
    try {
      return { kind: 'map', ...parseHostPort(value) };
    } catch (e) {
      return fail(`value for "${key}" is not a valid host: ${messageOf(e)}`);
    }
  }
  // The whole template can only be checked once the groups are known; what
  // can be checked now is checked now, so a typo fails at load, not per request.
  if (!TEMPLATE_CHARS.test(value)) {
    return fail(`value for "${key}" is not a valid host: invalid host name "${value}"`);
  }
  const groups = countGroups(regex);
  const missing = refs.find((n) => n > groups);
  if (missing !== undefined) {
    const has = groups === 0 ? 'has no groups' : `has ${groups} group${groups === 1 ? '' : 's'}`;
    return fail(`value for "${key}" uses $${missing}, but the regex ${has}`);
  }
  return { kind: 'template', template: value };
}

/**
 * Compiles a `/body/` or `/body/i` key. Only `i` is accepted: `g` and `y`
 * would make matching stateful, and the others change nothing useful here.
 */
function compileRegex(key: string, fail: (reason: string) => never): RegExp {
  const close = key.lastIndexOf('/');
  if (close === 0) return fail(`regex key "${key}" must end with "/" or "/i"`);
  const body = key.slice(1, close);
  const flags = key.slice(close + 1);
  if (flags !== '' && flags !== 'i') {
    return fail(/^[a-z]+$/.test(flags) ? `regex key "${key}": only the "i" flag is allowed, got "${flags}"` : `regex key "${key}" must end with "/" or "/i"`);
  }
  try {
    return new RegExp(body, flags);
  } catch (e) {
    // V8 says "Invalid regular expression: /[a/i: Unterminated ...": keep the
    // part after the pattern, which is the useful one.
    const why = messageOf(e).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return fail(`invalid regex ${key}: ${why}`);
  }
}

/** A CIDR key as a BlockList holding that one range. */
function parseRange(key: string, fail: (reason: string) => never): BlockList {
  const [, address, prefixText] = CIDR_KEY.exec(key)!;
  const prefix = Number(prefixText);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return fail(`address rule "${key}": "${address}" is not an IPv4 or IPv6 address`);
  if (prefix > (family === 'ipv4' ? 32 : 128)) return fail(`address rule "${key}": prefix /${prefix} is too long for ${family}`);
  const range = new BlockList();
  // As written: an IPv4-mapped range (`::ffff:127.0.0.0/104`) stays IPv6, and
  // BlockList matches the IPv4 addresses it maps (unmapped, its prefix would
  // be out of range for IPv4, which BlockList threw on).
  range.addSubnet(address, prefix, family);
  return range;
}

/** `::ffff:a.b.c.d` (what a dual-stack lookup may return) as `a.b.c.d`. */
function unmapIPv4(address: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1] : address;
}

/** Capture groups in a regex: an empty alternative makes it match "". */
function countGroups(regex: RegExp): number {
  return new RegExp(`${regex.source}|`).exec('')!.length - 1;
}

/** The key as a string: scalars by their source text, so `1234:` stays "1234". */
function keyText(node: unknown, fail: (reason: string) => never): string {
  if (isScalar(node)) {
    if (typeof node.value === 'string') {
      if (node.value === '') return fail('empty key');
      return node.value;
    }
    if (node.value !== null && node.source) return String(node.source);
  }
  const hint = isSeq(node) ? ' (quote keys that start with "[", like "[::1]:2222")' : '';
  return fail(`key must be a host name or a /regex/, got ${describe(node)}${hint}`);
}

function deref(node: unknown, doc: Document): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return 'a string';
    if (typeof v === 'number' || typeof v === 'bigint') return 'a number';
    if (typeof v === 'boolean') return String(v);
  }
  return 'an unsupported value';
}

/** A YAML syntax error on a line with "[" is most likely an unquoted IPv6 target. */
function bracketHint(text: string, line: number): string {
  const source = text.split(/\r?\n/)[line - 1] ?? '';
  return /^\s*\[|:\s+\[/.test(source) ? ' (quote names with "[", like "[::1]:2222": true)' : '';
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
