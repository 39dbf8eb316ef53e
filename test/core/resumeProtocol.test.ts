// The wire of the resume extension: what each header and the ack frame may
// hold, and what is refused with a ResumeProtocolError that says why.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RESUME_RECEIVED_HEADER,
  RESUME_TIMEOUT_HEADER,
  RESUME_TOKEN_HEADER,
  RESUME_WINDOW_HEADER,
  ResumeProtocolError,
  SESSION_HEADER,
  ackMessage,
  newResumeToken,
  newSessionKey,
  offerHeaders,
  offerResponseLines,
  parseAck,
  parseCount,
  parseOfferResponse,
  parseResumeToken,
  parseResumedResponse,
  parseSessionKey,
  parseUpgradeRequest,
  resumeRequestHeaders,
  resumedResponseLines,
  tokensMatch,
} from '../../src/core/tunnel/resumeProtocol';

/** Header lines as node's IncomingMessage gives them: lower-case names. */
function headersOf(lines: string[] | Record<string, string>): Record<string, string> {
  const entries = Array.isArray(lines) ? lines.map((l) => l.split(': ') as [string, string]) : Object.entries(lines);
  return Object.fromEntries(entries.map(([k, v]) => [k.toLowerCase(), v]));
}

function refused(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ResumeProtocolError, `a ResumeProtocolError, not ${String(err)}`);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    return true;
  });
}

test('session keys and tokens are 128 random bits in base64url, and parse back', () => {
  const keys = new Set(Array.from({ length: 100 }, newSessionKey));
  assert.equal(keys.size, 100);
  for (const key of keys) {
    assert.match(key, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(parseSessionKey(key), key);
  }
  const token = newResumeToken();
  assert.match(token, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(parseResumeToken(token), token);
  assert.equal(Buffer.from(token, 'base64url').length, 16);
});

test('malformed session keys and tokens are refused, with the header named', () => {
  refused(() => parseSessionKey('short'), SESSION_HEADER, /must be 22 base64url characters, not 5/);
  refused(() => parseSessionKey('q3Lx0sV8b1Yk2nZ4cWm9A='), SESSION_HEADER, /outside base64url/);
  refused(() => parseSessionKey('q3Lx0sV8b1Yk2nZ4cWm9A+'), SESSION_HEADER, /outside base64url/);
  refused(() => parseSessionKey('q3Lx0sV8b1Yk2nZ4cWm9Aw1'), SESSION_HEADER, /not 23/);
  refused(() => parseResumeToken('a'.repeat(21)), RESUME_TOKEN_HEADER, /22 to 86 base64url characters, not 21/);
  refused(() => parseResumeToken('a'.repeat(87)), RESUME_TOKEN_HEADER, /not 87/);
  refused(() => parseResumeToken('a'.repeat(21) + ' '), RESUME_TOKEN_HEADER, /outside base64url/);
  refused(() => parseResumeToken('a'.repeat(21) + '\n'), RESUME_TOKEN_HEADER, /outside base64url/);
  assert.equal(parseResumeToken('a'.repeat(86)), 'a'.repeat(86));
});

test('counts are decimal safe integers and nothing else', () => {
  assert.equal(parseCount('x', '0'), 0);
  assert.equal(parseCount('x', '18874368'), 18874368);
  assert.equal(parseCount('x', String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  for (const bad of ['', '-1', '+1', '01', '1e3', '0x10', ' 1', '1 ', '1.0', 'NaN', 'Infinity', '١٢']) {
    refused(() => parseCount('x', bad), 'x', /must be a count of bytes/);
  }
  refused(() => parseCount('x', '9007199254740992'), 'x', /beyond the largest count/);
  refused(() => parseCount('x', '99999999999999999'), 'x', /must be a count of bytes/);
});

test('an upgrade request: none, an offer or a resume, and partial sets refused', () => {
  const sessionKey = newSessionKey();
  const token = newResumeToken();
  assert.deepEqual(parseUpgradeRequest({}), { kind: 'none' });
  assert.deepEqual(parseUpgradeRequest(headersOf(offerHeaders(sessionKey))), { kind: 'offer', sessionKey });
  assert.deepEqual(parseUpgradeRequest(headersOf(resumeRequestHeaders({ sessionKey, token, received: 12345 }))), {
    kind: 'resume',
    sessionKey,
    token,
    received: 12345,
  });
  const h = (o: Record<string, string>) => headersOf(o);
  refused(() => parseUpgradeRequest(h({ [RESUME_TOKEN_HEADER]: token })), SESSION_HEADER, /a resume needs X-WSSH-Session/);
  refused(() => parseUpgradeRequest(h({ [SESSION_HEADER]: sessionKey, [RESUME_TOKEN_HEADER]: token })), RESUME_RECEIVED_HEADER, /needs/);
  refused(() => parseUpgradeRequest(h({ [SESSION_HEADER]: sessionKey, [RESUME_RECEIVED_HEADER]: '1' })), RESUME_TOKEN_HEADER, /needs/);
  refused(
    () => parseUpgradeRequest(h({ [SESSION_HEADER]: sessionKey, [RESUME_TOKEN_HEADER]: token, [RESUME_RECEIVED_HEADER]: '-5' })),
    RESUME_RECEIVED_HEADER,
    /count of bytes/,
  );
  refused(() => parseUpgradeRequest({ 'x-wssh-session': [sessionKey, sessionKey] }), SESSION_HEADER, /sent 2 times/);
  refused(() => parseUpgradeRequest({ 'x-wssh-session': 'not a key' }), SESSION_HEADER, /base64url/);
});

test("the server's 101: an offer, a resumed count, or nothing from an old server", () => {
  const token = newResumeToken();
  assert.equal(parseOfferResponse({}), undefined);
  assert.deepEqual(parseOfferResponse(headersOf(offerResponseLines({ token, window: 4194304, timeoutSec: 300 }))), {
    token,
    window: 4194304,
    timeoutSec: 300,
  });
  assert.equal(parseResumedResponse(headersOf(resumedResponseLines(777))), 777);
  refused(() => parseResumedResponse({}), RESUME_RECEIVED_HEADER, /has no X-WSSH-Resume-Received/);
  const offer = (window: string, timeout = '300') =>
    headersOf({ [RESUME_TOKEN_HEADER]: token, [RESUME_WINDOW_HEADER]: window, [RESUME_TIMEOUT_HEADER]: timeout });
  refused(() => parseOfferResponse(offer('1024')), RESUME_WINDOW_HEADER, /must be 65536 to 268435456 bytes, not 1024/);
  refused(() => parseOfferResponse(offer('1073741824')), RESUME_WINDOW_HEADER, /not 1073741824/);
  refused(() => parseOfferResponse(offer('4194304', '0')), RESUME_TIMEOUT_HEADER, /1 to 86400 seconds, not 0/);
  refused(() => parseOfferResponse(headersOf({ [RESUME_TOKEN_HEADER]: token })), RESUME_WINDOW_HEADER, /needs/);
  refused(
    () => parseOfferResponse(headersOf({ [RESUME_TOKEN_HEADER]: 'x', [RESUME_WINDOW_HEADER]: '65536', [RESUME_TIMEOUT_HEADER]: '1' })),
    RESUME_TOKEN_HEADER,
    /not 1/,
  );
});

test('ack frames: their count, other text passed by, a malformed ack refused', () => {
  assert.equal(ackMessage(1048576), 'ack 1048576');
  assert.equal(parseAck(ackMessage(1048576)), 1048576);
  assert.equal(parseAck('Oops:Error: Invalid host'), undefined);
  assert.equal(parseAck('acknowledged'), undefined);
  for (const bad of ['ack ', 'ack -1', 'ack 01', 'ack 1 ', 'ack 1e9', 'ack 99999999999999999']) refused(() => parseAck(bad), 'ack', /count of bytes/);
});

test('tokens are compared in full, whatever their lengths', () => {
  const token = newResumeToken();
  assert.equal(tokensMatch(token, token), true);
  assert.equal(tokensMatch(token, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')), false);
  assert.equal(tokensMatch(token, token + 'A'), false);
  assert.equal(tokensMatch(token, ''), false);
  assert.equal(tokensMatch(token, 'é'.repeat(11)), false);
});
