/**
 * HTTP Basic authentication of the upgrade request (RFC 7617), against the
 * users file, with repeated failures from one address slowed down.
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

export type AuthResult =
  | { ok: true; user: string }
  /** `reason` is for the client, `detail` for the server's log. */
  | { ok: false; reason: string; detail: string };

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

export class BasicAuth {
  /**
   * @param credentials the users in force; called per request, so a reloaded
   *   users file applies to the next tunnel.
   */
  constructor(
    private readonly credentials: () => Credentials,
    readonly backoff = new FailureBackoff(),
  ) {}

  /**
   * Checks an upgrade's Authorization header for a client address. Waits
   * first if that address failed recently; rejects with an AbortError when
   * `signal` aborts during the wait.
   */
  async check(header: string | undefined, client: string, signal?: AbortSignal): Promise<AuthResult> {
    const given = parseBasicAuth(header);
    // No credentials at all is how a browser or a first attempt starts, not a guess.
    if (given === undefined) return { ok: false, reason: CREDENTIALS_REQUIRED, detail: 'no credentials' };
    if (given === null) {
      this.backoff.failed(client);
      return { ok: false, reason: CREDENTIALS_REJECTED, detail: 'malformed Authorization header' };
    }
    await this.backoff.wait(client, signal);
    const verdict = await this.credentials().verify(given.user, given.secret);
    if (verdict === 'ok') {
      this.backoff.succeeded(client);
      return { ok: true, user: given.user };
    }
    this.backoff.failed(client);
    const detail = verdict === 'unknown user' ? 'unknown user' : `wrong secret for user ${JSON.stringify(given.user)}`;
    return { ok: false, reason: CREDENTIALS_REJECTED, detail };
  }
}
