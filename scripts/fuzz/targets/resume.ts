/**
 * The resume handshake's headers and acknowledgements
 * (src/core/tunnel/resumeProtocol.ts): what a client's upgrade asks, what
 * a server's 101 offers or answers, and the `ack` text frames.
 */
import * as fc from 'fast-check';
import {
  RESUME_RECEIVED_HEADER,
  RESUME_TIMEOUT_HEADER,
  RESUME_TOKEN_HEADER,
  RESUME_WINDOW_HEADER,
  ResumeProtocolError,
  SESSION_HEADER,
  ackMessage,
  offerResponseLines,
  parseAck,
  parseOfferResponse,
  parseResumedResponse,
  parseUpgradeRequest,
  resumeRequestHeaders,
  resumedResponseLines,
} from '../../../src/core/tunnel/resumeProtocol';
import { mutatedText } from '../mutate';
import { holds, onlyErrors, same, type FuzzTarget } from '../target';

const base64url = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: min, maxLength: max });
const count = fc.oneof(fc.nat(), fc.constantFrom(0, 65536, 4194304, 268435456, Number.MAX_SAFE_INTEGER)).map(String);
const TOKENS = ['0', '-1', '+1', '01', ' ', '1e3', '9007199254740993', '99999999999999999', '\u0000', '=', '.', 'ack '];
const value = (valid: fc.Arbitrary<string>) => mutatedText(valid, TOKENS, 2);
/** A header as node gives it: absent, one value, or repeated. */
const header = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 4, arbitrary: value(valid) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.array(value(valid), { maxLength: 3 }) },
  );

interface ResumeInput {
  headers: Record<string, string | string[] | undefined>;
  ack: string;
  request: { sessionKey: string; token: string; received: number };
  offer: { token: string; window: number; timeoutSec: number };
}

export const resumeTarget: FuzzTarget<ResumeInput> = {
  name: 'resume',
  about: 'the resume handshake (parseUpgradeRequest, parseOfferResponse, parseResumedResponse) and acks (parseAck)',
  arbitrary: fc.record({
    headers: fc.record(
      {
        [SESSION_HEADER.toLowerCase()]: header(base64url(20, 24)),
        [RESUME_TOKEN_HEADER.toLowerCase()]: header(base64url(16, 90)),
        [RESUME_RECEIVED_HEADER.toLowerCase()]: header(count),
        [RESUME_WINDOW_HEADER.toLowerCase()]: header(count),
        [RESUME_TIMEOUT_HEADER.toLowerCase()]: header(count),
      },
      { requiredKeys: [] },
    ),
    ack: mutatedText(
      count.map((n) => `ack ${n}`),
      TOKENS,
    ),
    request: fc.record({ sessionKey: base64url(22, 22), token: base64url(22, 86), received: fc.nat({ max: Number.MAX_SAFE_INTEGER }) }),
    offer: fc.record({ token: base64url(22, 86), window: fc.integer({ min: 65536, max: 268435456 }), timeoutSec: fc.integer({ min: 1, max: 86400 }) }),
  }),
  testRuns: 3000,
  caseMs: 1000,
  check({ headers, ack, request, offer }) {
    const allowed = [ResumeProtocolError];
    onlyErrors('parseUpgradeRequest', allowed, () => parseUpgradeRequest(headers));
    onlyErrors('parseOfferResponse', allowed, () => parseOfferResponse(headers));
    onlyErrors('parseResumedResponse', allowed, () => parseResumedResponse(headers));
    const n = onlyErrors('parseAck', allowed, () => parseAck(ack));
    if (n !== undefined) holds(ackMessage(n) === ack, () => `parseAck(${JSON.stringify(ack)}) gave ${n}, which is written ${ackMessage(n)}`);
    // Round trips: what one side writes, the other reads back.
    holds(parseAck(ackMessage(request.received)) === request.received, () => `ack ${request.received} did not read back`);
    const asked = parseUpgradeRequest(lowerCase(resumeRequestHeaders(request)));
    holds(same(asked, { kind: 'resume', ...request }), () => `resumeRequestHeaders read back as ${JSON.stringify(asked)}`);
    const offered = parseOfferResponse(fromLines(offerResponseLines(offer)));
    holds(same(offered, offer), () => `offerResponseLines read back as ${JSON.stringify(offered)}`);
    const resumed = parseResumedResponse(fromLines(resumedResponseLines(request.received)));
    holds(resumed === request.received, () => `resumedResponseLines read back as ${resumed}`);
  },
};

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Raw `Name: value` lines as node's parser would give them to the client. */
function fromLines(lines: string[]): Record<string, string> {
  return Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
}
