/**
 * Structure first, then damage: the targets generate inputs that look
 * valid (a CONNECT request, a SOCKS greeting, a hosts.yml, an NTLM
 * challenge), and these arbitraries apply a few random edits to them, as a
 * mutation fuzzer would: a flipped byte, an inserted run, a token of the
 * format dropped somewhere it does not belong, a slice repeated, a cut.
 * Two inputs in five are left valid, so the round trips are checked on
 * valid inputs too. fast-check shrinks the edits and the
 * valid input alike, so a finding comes back small.
 */
import * as fc from 'fast-check';

interface Edit {
  kind: number;
  /** Where, as a fraction of the length (so an edit stays meaningful while the input shrinks). */
  at: number;
  length: number;
  text: string;
}

const edit = (tokens: readonly string[]): fc.Arbitrary<Edit> =>
  fc.record({
    kind: fc.integer({ min: 0, max: 6 }),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    length: fc.integer({ min: 1, max: 64 }),
    text: tokens.length > 0 ? fc.oneof(fc.string({ maxLength: 8, unit: 'binary' }), fc.constantFrom(...tokens)) : fc.string({ maxLength: 8, unit: 'binary' }),
  });

function apply(input: string, e: Edit): string {
  const at = Math.floor(e.at * (input.length + 1));
  switch (e.kind) {
    case 0: // one character changed
      return input.slice(0, at) + (e.text[0] ?? '\u0000') + input.slice(at + 1);
    case 1: // inserted
    case 2:
      return input.slice(0, at) + e.text + input.slice(at);
    case 3: // deleted
      return input.slice(0, at) + input.slice(at + e.length);
    case 4: // a slice repeated
      return input.slice(0, at) + input.slice(at, at + e.length).repeat(1 + (e.length % 4)) + input.slice(at);
    case 5: // cut
      return input.slice(0, at);
    default: // a run of one character: long fields, many separators
      return input.slice(0, at) + (e.text[0] ?? 'A').repeat(e.length * 64) + input.slice(at);
  }
}

/** `valid` with up to `maxEdits` edits; `tokens` are pieces of the format worth dropping in. */
export function mutatedText(valid: fc.Arbitrary<string>, tokens: readonly string[] = [], maxEdits = 4): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: 3, arbitrary: fc.tuple(valid, fc.array(edit(tokens), { minLength: 1, maxLength: maxEdits })).map(([text, edits]) => edits.reduce(apply, text)) },
  );
}

/** The same for bytes: edits on the latin1 text of `valid` (one character per byte). */
export function mutatedBytes(valid: fc.Arbitrary<Buffer>, tokens: readonly string[] = [], maxEdits = 4): fc.Arbitrary<Buffer> {
  return mutatedText(
    valid.map((b) => b.toString('latin1')),
    tokens,
    maxEdits,
  ).map((text) => Buffer.from(text, 'latin1'));
}

/** A host name, an IPv4 or IPv6 address, as targets and endpoints are written, and some that are not quite. */
export const hostArb: fc.Arbitrary<string> = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('localhost', 'db1.lan', '127.0.0.1', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::', 'fe80::1%eth0', '127.1', '0x7f.0.0.1', 'a..b', 'db1.'),
);

/** A port, mostly in range. */
export const portArb: fc.Arbitrary<number> = fc.oneof(fc.constantFrom(22, 443, 2222, 65535), fc.integer({ min: 0, max: 70000 }));
