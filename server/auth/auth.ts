/**
 * HTTP Basic authentication of the upgrade request (RFC 7617), against the
 * users file, with repeated failures slowed down.
 *
 * The slow-down is keyed by client address *and* user name: one office
 * behind a NAT address that mistypes alice's secret slows alice from there,
 * not bob. An address may have only a couple of attempts waiting out a
 * slow-down and a few checks in flight; beyond that it is told 429 at once,
 * so parked guesses hold neither memory nor a tunnel slot (the server checks
 * logins before it takes a slot).
 *
 * Basic auth sends the secret in every request, readable to anyone on the
 * path: it is only safe over TLS (`wss://`, nginx in front). Nothing here
 * logs a secret; a user name is logged only when it exists in the users file
 * (an unknown "name" may be a secret typed into the wrong field).
 */
import type { Credentials } from './credentials';
import { FailureBackoff } from './failureBackoff';

/** The challenge sent with every 401 (RFC 7617 §2). */
export const BASIC_CHALLENGE = 'Basic realm="wssh"';

/** What the client is told on a 401: the same for every failure, so it cannot probe for names. */
const CREDENTIALS_REQUIRED = 'authentication required: this WSSH server needs a user name and secret';
const CREDENTIALS_REJECTED = 'wrong user name or secret';

export interface AuthLimits {
  /** Attempts from one address that may wait out a slow-down at once; more get 429. @default 2 */
  maxWaitingPerClient?: number;
  /** Logins from one address being checked (waiting or hashing) at once; more get 429. @default 8 */
  maxInFlightPerClient?: number;
}

export const AUTH_LIMIT_DEFAULTS: Required<AuthLimits> = { maxWaitingPerClient: 2, maxInFlightPerClient: 8 };

export type AuthResult =
  | { ok: true; user: string }
  /** `reason` is for the client, `detail` for the server's log; `busy` means 429 (too many attempts pending). */
  | { ok: false; reason: string; detail: string; busy?: boolean };

/**
 * The user id and password of an `Authorization: Basic …` header, undefined
 * when there is none, or null when it is not valid Basic credentials.
 */
export function parseBasicAuth(header: string | undefined): { user: string; secret: string } | undefined | null {
  if (header === undefined) return undefined;
  const match = /^basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header);
  if (!match || match[1].length % 4 !== 0) return null;
  // UTF-8, as browsers and the WSSH clients send it (RFC 7617 §2.1).
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Counts per address, holding only addresses with a count above zero. */
class Counter {
  private readonly counts = new Map<string, number>();
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  add(key: string, n: number): void {
    const value = this.get(key) + n;
    if (value > 0) this.counts.set(key, value);
    else this.counts.delete(key);
  }
  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
}

export class BasicAuth {
  private readonly limits: Required<AuthLimits>;
  private readonly waiting = new Counter();
  private readonly inFlight = new Counter();

  /**
   * @param credentials the users in force; called per request, so a reloaded
   *   users file applies to the next tunnel.
   */
  constructor(
    private readonly credentials: () => Credentials,
    readonly backoff = new FailureBackoff(),
    limits: AuthLimits = {},
  ) {
    this.limits = { ...AUTH_LIMIT_DEFAULTS, ...limits };
  }

  /** Logins being checked now (waiting out a slow-down or hashing), all addresses. */
  get pending(): number {
    return this.inFlight.total;
  }

  /**
   * Checks an upgrade's Authorization header for a client address. Waits
   * first if that address and user failed recently; rejects with an
   * AbortError when `signal` aborts during the wait.
   */
  async check(header: string | undefined, client: string, signal?: AbortSignal): Promise<AuthResult> {
    const given = parseBasicAuth(header);
    // No credentials at all is how a browser or a first attempt starts, not a guess.
    if (given === undefined) return { ok: false, reason: CREDENTIALS_REQUIRED, detail: 'no credentials' };
    const key = `${client}\u0000${given?.user ?? ''}`;
    if (given === null) {
      this.backoff.failed(key);
      return { ok: false, reason: CREDENTIALS_REJECTED, detail: 'malformed Authorization header' };
    }
    const mustWait = this.backoff.wouldWait(key);
    if (mustWait && this.waiting.get(client) >= this.limits.maxWaitingPerClient) {
      return busy(`${this.limits.maxWaitingPerClient} login attempts from ${client} already waiting out failures`);
    }
    if (this.inFlight.get(client) >= this.limits.maxInFlightPerClient) {
      return busy(`${this.limits.maxInFlightPerClient} login attempts from ${client} already being checked`);
    }
    this.inFlight.add(client, 1);
    try {
      if (mustWait) {
        this.waiting.add(client, 1);
        try {
          await this.backoff.wait(key, signal);
        } finally {
          this.waiting.add(client, -1);
        }
      } else {
        await this.backoff.wait(key, signal);
      }
      const verdict = await this.credentials().verify(given.user, given.secret);
      if (verdict === 'ok') {
        this.backoff.succeeded(key);
        return { ok: true, user: given.user };
      }
      this.backoff.failed(key);
      const detail = verdict === 'unknown user' ? 'unknown user' : `wrong secret for user ${JSON.stringify(given.user)}`;
      return { ok: false, reason: CREDENTIALS_REJECTED, detail };
    } finally {
      this.inFlight.add(client, -1);
    }
  }
}

function busy(detail: string): AuthResult {
  return { ok: false, busy: true, reason: 'too many login attempts from this address: try again later', detail };
}
