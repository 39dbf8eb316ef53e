/**
 * The error an abandoned operation rejects with, shaped as Node's own
 * (`name: 'AbortError'`, `code: 'ABORT_ERR'`), so one check (`err.name ===
 * 'AbortError'`) tells an abandoned dial from a failed one wherever it is
 * thrown: the proxy's CONNECT, the endpoint's TLS, a test's clock.
 */
export function abortError(message = 'the dial was abandoned'): Error {
  return Object.assign(new Error(message), { name: 'AbortError', code: 'ABORT_ERR' });
}
