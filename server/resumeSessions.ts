/**
 * The server's resumable sessions (issue #20; the wire is in
 * core/tunnel/resumeProtocol.ts): each tunnel that was offered resume, by the
 * client's session key, with its secret token, its user and its target, for
 * as long as its relay lives (open, or parked after its WebSocket broke and
 * waiting out the resume window).
 *
 * Finding one for a resume is the security-sensitive part, and it is kept
 * here, in one function:
 * - an unknown key, a wrong token and another user's session get the same
 *   answer (`resume-unknown`), after the same slow-down as a wrong password
 *   (the same FailureBackoff, keyed by the client address), and the token is
 *   compared in constant time even when no session has the key: a guesser
 *   learns neither whether a session exists nor how close a guess came;
 * - a session holds its tunnel slot while parked, so the per-client and total
 *   limits hold for parked sessions as for open ones; and its replay buffer
 *   counts in the process's buffer budget (replayBuffer.ts);
 * - a new tunnel that offers a key already in use does not replace the
 *   session (someone who read a key in a log cannot evict a user's session):
 *   it is opened without resume.
 */
import type { ResumableRelay } from '../src/core/tunnel/resumableRelay';
import { newResumeToken, tokensMatch } from '../src/core/tunnel/resumeProtocol';
import type { Target } from '../src/shared/target';
import type { FailureBackoff } from './auth/failureBackoff';

export interface ResumeSession {
  /** The client's session key (not a secret). */
  readonly key: string;
  /** The secret token this server gave the client. */
  readonly token: string;
  /** The authenticated user who opened it (with users.yml), else undefined. */
  readonly user: string | undefined;
  /** The target as asked for: a resume is checked against the policy in force again. */
  readonly target: Target;
  /** The tracker's id of the tunnel, for log lines. */
  readonly id: number;
  readonly relay: ResumableRelay;
}

/** Why a resume was refused, for the log only: the client always hears the same. */
export type ResumeMiss = 'unknown session' | 'wrong token' | 'another user';

/** A token no session has, compared against when the key is unknown: the same work either way. */
const DECOY_TOKEN = newResumeToken();

export class ResumeSessions {
  private readonly sessions = new Map<string, ResumeSession>();
  /** Counters for /metrics. */
  resumed = 0;
  refused = 0;
  expired = 0;

  constructor(private readonly backoff: FailureBackoff) {}

  /** Resumable sessions held (open or parked). */
  get size(): number {
    return this.sessions.size;
  }

  /** Sessions whose WebSocket broke and that wait for a resume. */
  get parked(): number {
    let n = 0;
    for (const session of this.sessions.values()) if (session.relay.parked) n++;
    return n;
  }

  /** Whether a new tunnel may take `key` (no session holds it). */
  isFree(key: string): boolean {
    return !this.sessions.has(key);
  }

  /** Holds `session` until its relay closes. The caller checked `isFree` in the same tick. */
  add(session: ResumeSession): void {
    this.sessions.set(session.key, session);
    session.relay.once('close', () => {
      if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
    });
  }

  /** Every session held, for a policy reload to check. */
  all(): IterableIterator<ResumeSession> {
    return this.sessions.values();
  }

  /**
   * The session `key` names, if `token` is its token and `user` its user;
   * waits out the client address's slow-down first (as a login does). A miss
   * counts as a failure for the slow-down and returns why, for the log.
   * Rejects with an AbortError when `signal` aborts during the wait.
   */
  async find(key: string, token: string, user: string | undefined, client: string, signal?: AbortSignal): Promise<ResumeSession | ResumeMiss> {
    const slot = `resume\u0000${client}`;
    await this.backoff.wait(slot, signal);
    const session = this.sessions.get(key);
    // Compared whether or not the key is known: the time says nothing about which.
    const tokenOk = tokensMatch(session?.token ?? DECOY_TOKEN, token);
    const miss: ResumeMiss | undefined = !session ? 'unknown session' : !tokenOk ? 'wrong token' : session.user !== user ? 'another user' : undefined;
    if (miss) {
      this.backoff.failed(slot);
      this.refused++;
      return miss;
    }
    this.backoff.succeeded(slot);
    return session!;
  }
}
