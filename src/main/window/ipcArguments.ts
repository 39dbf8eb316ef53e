/**
 * The shape of every IPC channel's arguments, in one table that ipcHandlers.ts
 * checks before a handler runs. The page is the less trusted side: a call of
 * the wrong shape (a page bug, or a page made to misbehave) is refused whole,
 * with a message that names the argument and what is wrong with it, before
 * anything changes.
 *
 * Only shapes: the types, the fields present and no others. What a value means
 * (a port in range, a URI that parses, an endpoint that exists) is for the
 * settings and the core to judge, in the words the user sees.
 *
 * The table is typed from the contract (src/shared/ipc.ts): a method without a
 * check, a check without a method, or a check whose shape is not exactly the
 * method's parameters (a field added to EndpointInput and not here) does not
 * compile.
 */
import type { InvokeApi, InvokeMethod } from '../../shared/ipc';

/** Says what is wrong with `value` (named `where` in the message), or undefined when it has the shape T. */
export interface Check<T> {
  (value: unknown, where: string): string | undefined;
  /** Never set: the shape the check proves, so that the table's types can be compared with the contract's. */
  readonly shape?: T;
}

type Shape<C> = C extends Check<infer T> ? T : never;

/** One object type instead of an intersection, so that it compares as identical to the contract's interfaces. */
type Flat<T> = { [K in keyof T]: T[K] };

/** A named parameter of a method: the name is for the messages only. */
interface Param<T> {
  name: string;
  check: Check<T>;
}

/** What a value is, for a message: "a number", "null", "a list". */
function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value === undefined) return 'undefined';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const text: Check<string> = (value, where) => (typeof value === 'string' ? undefined : `${where} must be a string, not ${kind(value)}`);

// Any number, NaN included: the settings say what is wrong with a port of NaN (an empty field) in their words.
const number: Check<number> = (value, where) => (typeof value === 'number' ? undefined : `${where} must be a number, not ${kind(value)}`);

const flag: Check<boolean> = (value, where) => (typeof value === 'boolean' ? undefined : `${where} must be true or false, not ${kind(value)}`);

function oneOf<const L extends string>(...values: L[]): Check<L> {
  const allowed = new Set<unknown>(values);
  const names = values.map((v) => JSON.stringify(v));
  const choices = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  return (value, where) => {
    if (allowed.has(value)) return undefined;
    return `${where} must be ${choices}, not ${typeof value === 'string' ? JSON.stringify(value) : kind(value)}`;
  };
}

function list<T>(item: Check<T>): Check<T[]> {
  return (value, where) => {
    if (!Array.isArray(value)) return `${where} must be a list, not ${kind(value)}`;
    for (let i = 0; i < value.length; i++) {
      const problem = item(value[i], `${where}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

/**
 * An object with the `required` fields, any of the `optional` ones (absent or undefined: Electron's
 * structured clone keeps a field set to undefined), and no other field.
 */
function record<R extends Record<string, Check<unknown>>, O extends Record<string, Check<unknown>> = Record<never, never>>(
  required: R,
  optional?: O,
): Check<Flat<{ [K in keyof R]: Shape<R[K]> } & { [K in keyof O]?: Shape<O[K]> }>> {
  const known = new Set([...Object.keys(required), ...Object.keys(optional ?? {})]);
  return (value, where) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${where} must be an object, not ${kind(value)}`;
    const fields = value as Record<string, unknown>;
    const unknown = Object.keys(fields).find((key) => !known.has(key));
    if (unknown !== undefined) return `${where} has a field ${JSON.stringify(unknown)} that it cannot have`;
    for (const [key, check] of Object.entries(required)) {
      if (!Object.hasOwn(fields, key) || fields[key] === undefined) return `${where}.${key} is missing`;
      const problem = check(fields[key], `${where}.${key}`);
      if (problem !== undefined) return problem;
    }
    for (const [key, check] of Object.entries(optional ?? {})) {
      if (!Object.hasOwn(fields, key) || fields[key] === undefined) continue;
      const problem = check(fields[key], `${where}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

/** One of the shapes; `what` says them all in the message, since which one a wrong value nearly had is a guess. */
function either<C extends Check<unknown>[]>(what: string, ...checks: C): Check<Shape<C[number]>> {
  return (value, where) => (checks.some((check) => check(value, where) === undefined) ? undefined : `${where} must be ${what}`);
}

function param<T>(name: string, check: Check<T>): Param<T> {
  return { name, check };
}

/** A method's arguments: exactly these, in this order. */
function args<P extends Param<unknown>[]>(...params: P): Check<{ [K in keyof P]: P[K] extends Param<infer T> ? T : never }> {
  const names = params.map((p) => p.name).join(', ');
  const expected = params.length === 0 ? 'no arguments' : `${params.length} argument${params.length === 1 ? '' : 's'} (${names})`;
  return (value, where) => {
    if (!Array.isArray(value) || value.length !== params.length) return `${where} takes ${expected}, not ${Array.isArray(value) ? value.length : kind(value)}`;
    for (let i = 0; i < params.length; i++) {
      const problem = params[i].check(value[i], params[i].name);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

const listenAddress = record({ host: text, port: number });
const proxySetting = either('"system", "none" or { url: string }', oneOf('system', 'none'), record({ url: text }));
const proxyAuthSetting = either(
  '{ mode: "windows" } or { mode: "password", user: string }',
  record({ mode: oneOf('windows') }),
  record({ mode: oneOf('password'), user: text }, { clearBasic: flag }),
);
const endpointTrust = record(
  {},
  { caFile: text, systemCa: flag, pins: list(text), pinOnly: flag, servername: text, clientCert: text, clientKey: text, clientPfx: text },
);
const endpointInput = record(
  { name: text, uri: text, user: text, keepaliveSec: number },
  {
    id: text,
    secret: text,
    proxy: proxySetting,
    trust: endpointTrust,
    proxyAuth: proxyAuthSetting,
    proxySecret: text,
    clientPassphrase: text,
    proxyWindowsSignIn: flag,
    resume: flag,
  },
);
const sessionRef = record({ client: oneOf('putty', 'kitty', 'winscp'), key: text });
const id = param('id', text);

/** Each method's check of its arguments, the shape of its parameters in the contract. */
type ArgumentChecks = { readonly [M in InvokeMethod]: Check<Parameters<InvokeApi[M]>> };

export const invokeArguments = {
  getSettings: args(),
  updateSettings: args(
    param('patch', record({}, { listen: listenAddress, startTunnelAtLaunch: flag, startAtLogin: flag, localProxyAuth: oneOf('off', 'on', 'auto') })),
  ),
  saveEndpoint: args(param('input', endpointInput)),
  duplicateEndpoint: args(id),
  deleteEndpoint: args(id),
  restoreEndpoint: args(id),
  selectEndpoint: args(id),
  testEndpoint: args(param('request', record({ endpoint: endpointInput, target: text }))),
  diagnose: args(param('request', record({ run: text, target: text }, { endpoint: endpointInput }))),
  checkAdvanced: args(param('request', record({ proxy: proxySetting, trust: endpointTrust }, { proxyAuth: proxyAuthSetting }))),
  pickFile: args(param('request', record({ title: text, kind: oneOf('certificate', 'key', 'pfx', 'ca') }))),
  getTunnelState: args(),
  startTunnel: args(),
  stopTunnel: args(),
  getConnections: args(),
  getTraffic: args(),
  getLog: args(),
  openLogFolder: args(),
  saveDiagnostics: args(),
  getPuttySettings: args(),
  exportPuttySession: args(param('request', record({ sessionName: text, target: text }))),
  getLocalProxyAuth: args(),
  revealLocalProxyPassword: args(),
  renewLocalProxyPassword: args(),
  listSavedSessions: args(),
  switchSession: args(param('ref', sessionRef)),
  switchSessionBack: args(param('ref', sessionRef)),
  copyText: args(param('text', text)),
  previewProfile: args(param('text', text), param('source', text)),
  importProfile: args(param('request', record({ text, source: text, mode: oneOf('add', 'update') }, { updateId: text }))),
} satisfies ArgumentChecks;

/**
 * Whether A and B are the same type, not only assignable to each other: a field that one has as optional
 * and the other lacks makes them differ (assignability would let a check forget an optional field).
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** The methods whose check proves another shape than their parameters in the contract: none. */
type Inexact = { [M in InvokeMethod]: Same<Shape<(typeof invokeArguments)[M]>, Parameters<InvokeApi[M]>> extends true ? never : M }[InvokeMethod];
// A compile error here names a method whose check above differs from its parameters in src/shared/ipc.ts.
type NoneInexact<M extends never> = M;
type _ChecksMatchTheContract = NoneInexact<Inexact>;
