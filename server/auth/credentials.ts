/**
 * The users file: who may open tunnels when authentication is on, with each
 * secret stored as an scrypt hash (RFC 7914), never in the clear.
 *
 * A YAML mapping of user name to hash, one line per user, as printed by
 * `wssh server --hash-secret NAME`:
 *
 * ```yaml
 * alice: scrypt$16384$8$1$3q9xK2m0lNf8AcZ1pQe7Jw$Wb0W5lH2…
 * ```
 *
 * The hash reads `scrypt$N$r$p$SALT$KEY`: the scrypt cost parameters in
 * decimal, then the salt and the derived key in base64url without padding.
 * The parameters travel with each line, so a stronger setting for new lines
 * leaves old lines valid. User names are what HTTP Basic auth can carry: no
 * ":" (RFC 7617 §2) and no control characters.
 *
 * Checking a secret derives the key with the line's salt and parameters and
 * compares with crypto.timingSafeEqual. An unknown user costs the same
 * scrypt run as the file's costliest line (its N, r, p and key length), so
 * response times do not tell which names exist, even when one line was made
 * with stronger settings. Hashes go through one queue (scryptQueue.ts) that
 * leaves half of libuv's pool to DNS lookups. Successful checks are remembered per loaded file (keyed by an HMAC
 * under a per-process random key, so the secret is never held): a client
 * opening many tunnels pays for scrypt once, and the libuv thread pool that
 * also resolves target names is not filled with hashing.
 */
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { isMap, isScalar } from 'yaml';
import { FileProblem, offsetOf, parseYaml, readTextFile } from '../configFiles/yamlFile';
import { maxmem, scryptQueue } from './scryptQueue';

const scrypt = promisify(crypto.scrypt) as (
  password: crypto.BinaryLike,
  salt: crypto.BinaryLike,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

/** What `hashSecret` uses: scrypt's interactive-login setting (16 MiB, about 40 ms). */
export const SCRYPT_DEFAULTS = { N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

/**
 * Bounds for parameters read from a file: a line with N = 2^30 must not
 * make every login take a gigabyte.
 */
const LIMITS = { maxN: 2 ** 20, maxR: 32, maxP: 16, maxMemory: 256 * 1024 * 1024, minBytes: 8, maxBytes: 128 };

/** How many successful checks each loaded file remembers. */
const VERIFIED_CACHE_SIZE = 1024;

/** Keys the remembered successes; random per process, never stored. */
const CACHE_KEY = crypto.randomBytes(32);

const HASH_PATTERN = /^scrypt\$(\d{1,10})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** A user name as it appears in a users-file key and in Basic auth. */
const USER_NAME = /^[^:\p{Cc}]{1,128}$/u;
/** Names that need no quoting in YAML: not a number, not a keyword like `null` or `yes`. */
const PLAIN_YAML_NAME = /^(?!(?:null|true|false|yes|no|on|off|y|n)$)[A-Za-z_][A-Za-z0-9_.@+-]*$/i;

/**
 * A users file that cannot be used, with where the problem is: `file:line:column:
 * what is wrong`. The message never quotes a hash.
 */
export class CredentialsError extends FileProblem {
  override name = 'CredentialsError';
}

interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
  /** The line's text, to tell whether a remembered success still applies. */
  encoded: string;
}

/** The result of a check, for the log; only `ok` lets a tunnel through. */
export type Verdict = 'ok' | 'unknown user' | 'wrong secret';

/** Why a user name cannot be used, or undefined when it can. */
export function userNameProblem(user: string): string | undefined {
  if (user.length === 0) return 'empty user name';
  if (user.includes(':')) return 'a user name cannot contain ":" (HTTP Basic auth splits there)';
  if (!USER_NAME.test(user)) return 'a user name must be 1 to 128 characters, without control characters';
  return undefined;
}

/** Hashes `secret` with a fresh salt: the value for a users-file line. */
export async function hashSecret(secret: string, params: { N?: number; r?: number; p?: number } = {}): Promise<string> {
  const { N, r, p } = { ...SCRYPT_DEFAULTS, ...params };
  const salt = crypto.randomBytes(SCRYPT_DEFAULTS.saltBytes);
  const key = await scrypt(normalize(secret), salt, SCRYPT_DEFAULTS.keyBytes, { N, r, p, maxmem: maxmem(N, r) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A users-file line for `user`, quoted when YAML needs it. */
export function formatUserLine(user: string, hash: string): string {
  const problem = userNameProblem(user);
  if (problem) throw new Error(problem);
  return `${PLAIN_YAML_NAME.test(user) ? user : JSON.stringify(user)}: ${hash}`;
}

export class Credentials {
  readonly #users: Map<string, ScryptHash>;
  /** What an unknown user is checked against: random, with the costliest line's parameters. */
  readonly #decoy: ScryptHash;
  /** HMAC of user and secret → the hash line it matched, most recent last. */
  readonly #verified = new Map<string, string>();

  private constructor(
    readonly source: string,
    users: Map<string, ScryptHash>,
  ) {
    this.#users = users;
    this.#decoy = decoyLike(users.values());
  }

  /** The scrypt parameters an unknown user's check runs with (the costliest line's). */
  get decoyCost(): { N: number; r: number; p: number; keyBytes: number } {
    const { N, r, p, key } = this.#decoy;
    return { N, r, p, keyBytes: key.length };
  }

  get userCount(): number {
    return this.#users.size;
  }

  /**
   * Parses users-file text. An empty file is valid and lets nobody in.
   *
   * @param source the file name used in error messages.
   * @throws {CredentialsError} for the first problem found, with its position.
   */
  static parse(text: string, source = 'users.yml'): Credentials {
    const { doc, syntaxError, fail, lineOf } = parseYaml(text, (reason, line, column) => new CredentialsError(reason, source, line, column));
    if (syntaxError) fail(syntaxError.message, syntaxError.pos[0]);

    const users = new Map<string, ScryptHash>();
    const top = doc.contents;
    if (top === null || (isScalar(top) && top.value === null)) return new Credentials(source, users);
    if (!isMap(top)) return fail('expected a mapping of user names to scrypt hashes (NAME: scrypt$…)', offsetOf(top));

    const lines = new Map<string, number>();
    for (const pair of top.items) {
      const keyAt = offsetOf(pair.key);
      const user = keyText(pair.key) ?? fail('a key must be a user name', keyAt);
      const problem = userNameProblem(user);
      if (problem) fail(problem, keyAt);
      const line = lineOf(keyAt);
      const first = lines.get(user);
      if (first !== undefined) fail(`duplicate user "${user}" (first at line ${first})`, keyAt);
      lines.set(user, line);

      const valueAt = pair.value ? offsetOf(pair.value) : keyAt;
      const value = isScalar(pair.value) ? pair.value.value : undefined;
      if (typeof value !== 'string') {
        fail(`the value for "${user}" must be a hash made by wssh server --hash-secret (scrypt$N$r$p$salt$key)`, valueAt);
      }
      const hash = parseHash(value as string);
      if (typeof hash === 'string') fail(`the hash for "${user}" ${hash}`, valueAt);
      users.set(user, hash as ScryptHash);
    }
    return new Credentials(source, users);
  }

  /** Whether `secret` is `user`'s. Takes one scrypt run unless remembered. */
  async verify(user: string, secret: string): Promise<Verdict> {
    const hash = this.#users.get(user);
    const cacheKey = crypto.createHmac('sha256', CACHE_KEY).update(user).update('\0').update(normalize(secret)).digest('base64');
    if (hash && this.#verified.get(cacheKey) === hash.encoded) {
      this.#verified.delete(cacheKey);
      this.#verified.set(cacheKey, hash.encoded);
      return 'ok';
    }
    const against = hash ?? this.#decoy;
    const derived = await scryptQueue.hash({
      secret: normalize(secret),
      salt: against.salt,
      keyBytes: against.key.length,
      N: against.N,
      r: against.r,
      p: against.p,
    });
    const equal = crypto.timingSafeEqual(derived, against.key);
    if (!hash) return 'unknown user';
    if (!equal) return 'wrong secret';
    this.#verified.set(cacheKey, hash.encoded);
    if (this.#verified.size > VERIFIED_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
    return 'ok';
  }
}

/**
 * Reads and parses a users file synchronously (at start, before listening,
 * and on reload).
 *
 * @throws {CredentialsError} naming `path`.
 */
export function loadCredentialsFile(path: string): Credentials {
  return Credentials.parse(
    readTextFile(path, (reason) => new CredentialsError(reason, path)),
    path,
  );
}

/** A hash line's parts, or what is wrong with it (as the end of a sentence). */
function parseHash(text: string): ScryptHash | string {
  const match = HASH_PATTERN.exec(text.trim());
  if (!match) return 'is not scrypt$N$r$p$salt$key (make one with wssh server --hash-secret)';
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const salt = Buffer.from(match[4], 'base64url');
  const key = Buffer.from(match[5], 'base64url');
  if (N < 2 || N > LIMITS.maxN || (N & (N - 1)) !== 0) return `has N=${N}: it must be a power of 2 from 2 to ${LIMITS.maxN}`;
  if (r < 1 || r > LIMITS.maxR) return `has r=${r}: it must be 1 to ${LIMITS.maxR}`;
  if (p < 1 || p > LIMITS.maxP) return `has p=${p}: it must be 1 to ${LIMITS.maxP}`;
  if (128 * N * r > LIMITS.maxMemory) return `needs ${(128 * N * r) / 2 ** 20} MiB per check (N*r too large; at most ${LIMITS.maxMemory / 2 ** 20} MiB)`;
  for (const [what, bytes] of [
    ['salt', salt],
    ['key', key],
  ] as const) {
    if (bytes.length < LIMITS.minBytes || bytes.length > LIMITS.maxBytes) {
      return `has a ${what} of ${bytes.length} bytes: it must be ${LIMITS.minBytes} to ${LIMITS.maxBytes}`;
    }
  }
  return { N, r, p, salt, key, encoded: text.trim() };
}

/**
 * A hash no secret matches (a random key), with the parameters of the
 * costliest of `lines` (scrypt's work grows with N·r·p; the defaults when
 * there are none), so an unknown user takes as long as the slowest known one.
 */
function decoyLike(lines: Iterable<ScryptHash>): ScryptHash {
  let costliest: Pick<ScryptHash, 'N' | 'r' | 'p'> & { keyBytes: number } = { ...SCRYPT_DEFAULTS };
  for (const line of lines) {
    const cost = line.N * line.r * line.p;
    const best = costliest.N * costliest.r * costliest.p;
    if (cost > best || (cost === best && line.key.length > costliest.keyBytes)) {
      costliest = { N: line.N, r: line.r, p: line.p, keyBytes: line.key.length };
    }
  }
  const { N, r, p, keyBytes } = costliest;
  return { N, r, p, salt: crypto.randomBytes(SCRYPT_DEFAULTS.saltBytes), key: crypto.randomBytes(keyBytes), encoded: '' };
}

/** The same secret typed on two systems may arrive in two Unicode forms (RFC 7613 §4.2). */
function normalize(secret: string): Buffer {
  return Buffer.from(secret.normalize('NFC'), 'utf8');
}

/** A scalar key as written: `1234:` is the user "1234", `null:` the user "null". */
function keyText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  if (typeof node.value === 'string') return node.value;
  return node.source ? String(node.source) : undefined;
}
