/**
 * The `Proxy-Authenticate` challenges of a 407, read as RFC 7235 says a
 * client must: a response may carry several such headers, and each may hold
 * several challenges separated by commas (§4.3), which makes a comma
 * ambiguous until the next token is read:
 *
 *     challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]   (§2.1)
 *     auth-param  = token BWS "=" BWS ( token / quoted-string )
 *
 * `Proxy-Authenticate: Negotiate, NTLM` and two headers `Negotiate` and
 * `NTLM` mean the same; so does `Basic realm="a, b", NTLM`.
 */

export interface Challenge {
  /** The scheme as the proxy wrote it (`Negotiate`, `NTLM`, `Basic`, `Digest`…). */
  readonly scheme: string;
  /** Its token68 (NTLM's CHALLENGE_MESSAGE, a Negotiate continuation), if any. */
  readonly token?: string;
  /** Its auth-params, names in lower case (`realm`). */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/** Every challenge in `headers` (the header's values, in order); what cannot be read is skipped. */
export function parseChallenges(headers: readonly string[]): Challenge[] {
  const challenges: Challenge[] = [];
  for (const header of headers) challenges.push(...parseHeader(header));
  return challenges;
}

/** The first challenge for `scheme` (case-insensitive, as §2.1 says schemes are). */
export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  const wanted = scheme.toLowerCase();
  return challenges.find((c) => c.scheme.toLowerCase() === wanted);
}

function parseHeader(text: string): Challenge[] {
  const out: Challenge[] = [];
  let rest = text;
  let current: { scheme: string; token?: string; params: Record<string, string> } | undefined;
  const skipSpace = () => (rest = rest.replace(/^[ \t]+/, ''));
  for (;;) {
    skipSpace();
    if (rest.startsWith(',')) {
      rest = rest.slice(1);
      continue;
    }
    if (rest === '') break;
    const name = TOKEN.exec(rest)?.[0];
    if (!name) {
      // Not a token: unreadable from here on; keep what was read.
      break;
    }
    const after = rest.slice(name.length);
    if (current && !current.token && /^[ \t]*=/.test(after) && !/^[ \t]*=+[ \t]*(,|$)/.test(after)) {
      // `name=value`: a parameter of the current challenge.
      rest = after.replace(/^[ \t]*=[ \t]*/, '');
      let value: string;
      if (rest.startsWith('"')) {
        const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
        if (!quoted) break;
        value = quoted[1].replace(/\\(.)/g, '$1');
        rest = rest.slice(quoted[0].length);
      } else {
        value = TOKEN.exec(rest)?.[0] ?? '';
        rest = rest.slice(value.length);
      }
      current.params[name.toLowerCase()] = value;
      continue;
    }
    // A new challenge: its scheme, then a token68 or parameters.
    current = { scheme: name, params: {} };
    out.push(current);
    rest = after;
    if (!/^[ \t]+/.test(rest)) continue;
    skipSpace();
    const token68 = TOKEN68.exec(rest)?.[0];
    // A token68 stands alone: what follows it is a comma or the end. (`realm=…` is a parameter, not a token68.)
    if (token68 && /^[ \t]*(,|$)/.test(rest.slice(token68.length))) {
      current.token = token68;
      rest = rest.slice(token68.length);
    }
  }
  return out;
}
