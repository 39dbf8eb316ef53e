/**
 * The relay of a resumable tunnel (issue #20; the wire is in
 * resumeProtocol.ts): a byte stream (PuTTY's connection to the local proxy,
 * `wssh client`'s stdio, the server's connection to sshd) relayed over one
 * WebSocket after another, the stream kept open across the breaks between.
 *
 * What Relay (relay.ts) guarantees holds here too, across any number of
 * WebSockets: every byte arrives once and in order; backpressure both ways
 * (reading the stream pauses while the WebSocket's send buffer holds
 * `highWaterMark`, reading the WebSocket while the stream's write buffer is
 * full); text frames never enter the stream. What it adds:
 *
 * - every byte read from the stream is kept in a ReplayBuffer until the peer
 *   acknowledges it; reading the stream also pauses while that buffer holds
 *   the window (or more than its share of a spent process budget), so a
 *   broken link parks at most a window (plus one read) per direction;
 * - bytes received are counted and acknowledged with `ack <count>` text
 *   frames, every `ackBytes` or `ackMs`, whichever comes first;
 * - when the WebSocket breaks (closed without ending the session, an error, a
 *   missed pong) it emits 'detached' and keeps the stream; `attach(ws,
 *   peerReceived)` with the next one replays from what the peer says it
 *   received, then relays on;
 * - an end of the stream (FIN) ends the session only once every byte sent is
 *   acknowledged: then the WebSocket closes with 1000, which tells the peer
 *   the session is over (not broken) and it ends its stream;
 * - `end(reason)` gives up: the WebSocket closes with 1011 (the peer ends
 *   too), the stream is ended; so does a break not resumed within
 *   `resumeTimeoutMs`, and a peer that breaks the protocol (an ack of bytes
 *   never sent, a replay from outside the window: ResumeProtocolError,
 *   closed with 1002 and the message).
 *
 * The close codes that end the session rather than break the link: 1000 (the
 * sender's stream ended, all acknowledged), 1002 (protocol error) and 1011
 * (given up), and the other codes a peer sends on purpose about the data
 * (1003, 1007-1010). Everything else (1006: no close frame; 1001 and
 * 1012-1014: a proxy or server going away) is a break to resume from. A
 * server must therefore close a resumable tunnel it parks or drains with
 * 1001, never 1000.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { peerText } from './peerText';
import { DEFAULT_KEEPALIVE_MS, startKeepalive } from './keepalive';
import { type BudgetAccount, type BufferBudget, processBudget } from './bufferBudget';
import { DEFAULT_HIGH_WATER_MARK, closeReason } from './relay';
import { ReplayBuffer } from './replayBuffer';
import { ACK_PREFIX, DEFAULT_RESUME_TIMEOUT_SEC, DEFAULT_RESUME_WINDOW, MAX_ACK_BYTES, ResumeProtocolError, ackMessage, parseAck } from './resumeProtocol';

export interface ResumableRelayOptions {
  /** Pause reading the stream while this many bytes wait in the WebSocket's send buffer (as Relay). @default DEFAULT_HIGH_WATER_MARK */
  highWaterMark?: number;
  /** The process's buffer budget; the replay buffer and the stream's write buffer count in it. @default processBudget */
  budget?: BufferBudget;
  /** WebSocket ping interval in ms; 0 turns pings off. Two missed pings are a break. @default DEFAULT_KEEPALIVE_MS */
  keepaliveMs?: number;
  /** After the session ended, how long to read and discard from a stream whose peer has not closed (as Relay). @default 5000 */
  lingerMs?: number;
  /** Bytes kept sent and unacknowledged before reading the stream pauses (both sides use the server's). @default DEFAULT_RESUME_WINDOW */
  window?: number;
  /** Acknowledge once this many bytes came in since the last ack. @default window / 16 */
  ackBytes?: number;
  /** Acknowledge bytes received at most this long after they came. @default DEFAULT_ACK_MS */
  ackMs?: number;
  /** A break not resumed within this many ms ends the session; 0: only `end()` does. @default DEFAULT_RESUME_TIMEOUT_SEC × 1000 */
  resumeTimeoutMs?: number;
  /** Bytes sent before any the stream gives, kept for replay like them (a client's bytes after its CONNECT whose stream already ended). */
  head?: Buffer;
}

/**
 * The longest an ack waits. An ack every window/16 bytes keeps a busy sender
 * from stalling (it waits for an ack only when 15/16 of its window is in
 * flight: 1/16 of the throughput lost at most, at 400 acks a second at
 * 100 MiB/s, a 12-byte text frame each); this timer covers the quiet tail of
 * a burst (a keystroke's echo), so that little is replayed after a break and
 * a FIN, which waits for the last ack, ends the session within 200 ms plus a
 * round trip. An interactive session sends at most five acks a second, an
 * idle one none.
 */
export const DEFAULT_ACK_MS = 200;

const DEFAULT_LINGER_MS = 5000;

/** Close codes by which a peer ends the session on purpose (the rest are breaks). */
const SESSION_END_CODES = new Set([1000, 1002, 1003, 1007, 1008, 1009, 1010, 1011]);

export interface ResumableRelayResult {
  /** Why the session ended, in words. */
  reason: string;
  /** Bytes read from the stream (each sent at least once). */
  sent: number;
  /** Bytes received and written to the stream (each once). */
  received: number;
  /** Bytes sent again after breaks. */
  replayed: number;
  /** WebSockets attached after the first. */
  resumes: number;
  /** The most bytes the replay buffer held at once. */
  peakReplay: number;
  /** A text frame the peer sent that was not an ack. */
  peerMessage?: string;
  /** The protocol error that ended the session, if one did. */
  error?: ResumeProtocolError;
}

interface ResumableRelayEvents {
  /** A WebSocket was attached: how many bytes were sent again on it, and the peer's count. */
  attached: [info: { replayed: number; peerReceived: number }];
  /** The WebSocket broke; the stream is kept until `attach()` or `end()`. */
  detached: [reason: string];
  /** A text frame from the peer that is not an ack. */
  text: [message: string];
  /** The session is over, the stream and the last WebSocket closed; emitted once. */
  close: [result: ResumableRelayResult];
}

const BINARY = { binary: true };

/**
 * Relays `stream` over the WebSockets given to `attach()`. Bytes the stream
 * delivers before the first attach are kept and sent on it. For TCP sockets,
 * create them with `allowHalfOpen: true`, as for Relay.
 */
export class ResumableRelay extends EventEmitter<ResumableRelayEvents> {
  /** Bytes received from the peer: what a resume tells it (`X-WSSH-Resume-Received`). */
  received = 0;
  /** Bytes sent again after breaks, in total. */
  replayed = 0;
  /** How many WebSockets were attached. */
  attachments = 0;
  /** Resolves with the result once the session is over. */
  readonly done: Promise<ResumableRelayResult>;

  private readonly replay: ReplayBuffer;
  private readonly down: BudgetAccount;
  private readonly highWaterMark: number;
  private readonly keepaliveMs: number;
  private readonly lingerMs: number;
  private readonly ackBytes: number;
  private readonly ackMs: number;
  private readonly resumeTimeoutMs: number;

  private ws: WebSocket | undefined;
  /** Bytes sent on the current WebSocket that have not reached the kernel. */
  private inFlight = 0;
  private wsPaused = false;
  private readingPaused = false;
  private lastAckSent = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  private streamEnded = false;
  private streamClosed = false;
  /** The session is over: no more resumes; the rest is closing down. */
  private over = false;
  private finished = false;
  private reason: string | undefined;
  private error: ResumeProtocolError | undefined;
  private peerMessage: string | undefined;

  constructor(
    private readonly stream: Duplex,
    options: ResumableRelayOptions = {},
  ) {
    super();
    const window = options.window ?? DEFAULT_RESUME_WINDOW;
    const budget = options.budget ?? processBudget;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    this.ackBytes = options.ackBytes ?? Math.max(1, Math.floor(window / 16));
    this.ackMs = options.ackMs ?? DEFAULT_ACK_MS;
    this.resumeTimeoutMs = options.resumeTimeoutMs ?? DEFAULT_RESUME_TIMEOUT_SEC * 1000;
    this.replay = new ReplayBuffer(window, budget);
    this.down = budget.open();
    this.done = new Promise((resolve) => this.once('close', resolve));
    if (options.head) this.replay.push(options.head);

    stream.on('data', (chunk: Buffer) => {
      if (this.over) return; // read and discarded while the session closes down
      this.replay.push(chunk);
      const ws = this.ws;
      if (ws) this.send(ws, chunk);
      this.updateReading();
    });
    const onEnd = () => {
      this.streamEnded = true;
      this.maybeEnd();
    };
    stream.on('end', onEnd);
    if (stream.readableEnded) onEnd();
    stream.on('error', (err: NodeJS.ErrnoException) => this.settle(`stream error: ${err.code ?? err.message}`));
    stream.on('close', () => {
      this.streamClosed = true;
      // A stream closed after its FIN still has its bytes in the replay
      // buffer: they are delivered before the session ends (maybeEnd).
      if (!this.over && !this.streamEnded) this.giveUp('stream closed', 1011);
      this.finish();
    });
    this.updateReading();
  }

  /** Bytes read from the stream so far (the replay buffer's end). */
  get sent(): number {
    return this.replay.sent;
  }

  /** Bytes sent and not yet acknowledged: what a resume may replay. */
  get unacknowledged(): number {
    return this.replay.size;
  }

  /** The most bytes the replay buffer held at once. */
  get peakReplay(): number {
    return this.replay.peak;
  }

  /** Bytes read from the stream (the tracker's name for them, as Relay's). */
  get toWebSocket(): number {
    return this.replay.sent;
  }

  /** Bytes received and written to the stream (the tracker's name, as Relay's). */
  get toStream(): number {
    return this.received;
  }

  /** WebSockets attached after the first. */
  get resumes(): number {
    return Math.max(0, this.attachments - 1);
  }

  /** Whether the session waits for a resume now: its WebSocket broke and it is not over. */
  get parked(): boolean {
    return this.ws === undefined && !this.over && this.attachments > 0;
  }

  /** The tracker's way to end it (TrackedRelay): as `end()`. */
  abort(reason: string): void {
    this.end(reason);
  }

  /** Whether a WebSocket is attached now. */
  get attached(): boolean {
    return this.ws !== undefined;
  }

  /** Whether reading from the stream is paused now (the WebSocket or the window is full). */
  get readingStreamPaused(): boolean {
    return this.readingPaused;
  }

  /**
   * Throws ResumeProtocolError unless a resume from `peerReceived` can be
   * served: it must lie in [acknowledged, sent]. For the server, before it
   * answers a resume's upgrade (a refusal beats a 101 and a close).
   */
  checkResume(peerReceived: number): void {
    if (this.over) throw new ResumeProtocolError('replay', 'the session is over');
    if (!Number.isSafeInteger(peerReceived) || peerReceived < this.replay.acked || peerReceived > this.replay.sent) {
      throw new ResumeProtocolError(
        'replay',
        `the peer asks for a replay from byte ${peerReceived}, outside the bytes kept (${this.replay.acked} to ${this.replay.sent})`,
      );
    }
  }

  /**
   * Relays over `ws` (open; paused or not), first sending again what the peer
   * has not received: everything from `peerReceived` on (0 for the first
   * WebSocket). A WebSocket still attached is dropped first (a second resume
   * replaces the first; 'detached' is emitted for it). A `peerReceived`
   * outside the bytes kept ends the session (`ws` closed with 1002 and the
   * message) and throws ResumeProtocolError. A `ws` that is no longer open
   * (it closed between its 101 and this call) throws a plain Error and
   * changes nothing: the caller dials again.
   */
  attach(ws: WebSocket, peerReceived: number): void {
    if (this.over) throw new ResumeProtocolError('replay', 'the session is over');
    // Its 'close' has been emitted already, or will be without a frame: it would hold the session for ever.
    if (ws.readyState !== WebSocket.OPEN) throw new Error('the WebSocket closed before it was attached');
    if (this.ws) this.detach('replaced by a new WebSocket');
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    this.ws = ws;
    this.listen(ws);
    try {
      this.checkResume(peerReceived);
    } catch (err) {
      this.fail(err as ResumeProtocolError);
      throw err;
    }
    this.replay.ack(peerReceived);
    this.attachments++;
    this.inFlight = 0;
    this.wsPaused = false;
    // The peer learned our count from the upgrade: no ack owed for it.
    this.lastAckSent = this.received;
    let replayed = 0;
    for (const chunk of this.replay.from(peerReceived)) {
      replayed += chunk.length;
      this.send(ws, chunk);
    }
    if (this.attachments > 1) this.replayed += replayed;
    if (ws.isPaused) ws.resume();
    this.emit('attached', { replayed, peerReceived });
    this.updateReading();
    this.maybeEnd();
  }

  /**
   * Drops the WebSocket attached now without ending the session (terminated,
   * no close frame, so the peer sees a break too). The server calls it when a
   * resume arrives for a session whose old WebSocket it has not seen break,
   * before it reads `received` for the 101.
   */
  detach(reason: string): void {
    const ws = this.ws;
    if (!ws || this.over) return;
    this.ws = undefined;
    this.inFlight = 0;
    this.wsPaused = false;
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    ws.terminate();
    if (this.resumeTimeoutMs > 0) {
      this.resumeTimer = setTimeout(() => this.end(`not resumed within ${this.resumeTimeoutMs / 1000} s (${reason})`), this.resumeTimeoutMs);
      this.resumeTimer.unref();
    }
    this.emit('detached', reason);
    this.updateReading();
  }

  /** Gives up the session: the WebSocket (if any) closes with 1011 and `reason`, the stream is ended. */
  end(reason: string): void {
    if (this.over) return;
    this.giveUp(reason, 1011);
  }

  private listen(ws: WebSocket): void {
    let broke: string | undefined;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.ws !== ws) return;
      if (!isBinary) return this.onText(data);
      if (this.streamClosed) return;
      const n = data.length;
      this.received += n;
      this.owe();
      this.down.add(n);
      const room = this.stream.write(data, () => {
        this.down.remove(n);
        if (this.wsPaused && this.down.buffered === 0) {
          this.wsPaused = false;
          this.ws?.resume();
        }
      });
      if ((!room || this.down.full(this.highWaterMark)) && !this.wsPaused && this.down.buffered > 0) {
        this.wsPaused = true;
        ws.pause();
      }
    });
    ws.on('error', (err) => {
      broke ??= `WebSocket error: ${err.message}`;
    });
    ws.on('close', (code, reasonBuffer) => {
      if (this.ws !== ws) return; // dropped already (detach, replaced)
      const text = peerText(reasonBuffer);
      if (this.over) {
        this.ws = undefined;
        this.endStream();
        this.finish();
        return;
      }
      if (SESSION_END_CODES.has(code)) {
        // The peer ended the session: its stream ended and we hold every
        // byte it sent (1000), or it gave up.
        this.ws = undefined;
        this.over = true;
        if (this.peerMessage !== undefined) this.settle(`peer said: ${this.peerMessage}`);
        this.settle(code === 1000 ? `peer closed the WebSocket (1000${text ? ' ' + text : ''})` : `peer ended the session (${code}${text ? ' ' + text : ''})`);
        this.endStream();
        this.finish();
        return;
      }
      this.detach(broke ?? (code === 1006 ? 'connection to the peer was lost' : `the WebSocket closed (${code}${text ? ' ' + text : ''})`));
    });
    startKeepalive(ws, this.keepaliveMs, () => {
      broke ??= 'ping timeout: the peer stopped answering';
    });
  }

  private onText(data: Buffer): void {
    let acked: number | undefined;
    try {
      // A hostile peer's 1 MiB text frame is not decoded whole: an ack is short.
      const head = data.subarray(0, MAX_ACK_BYTES + 1).toString('latin1');
      if (data.length > MAX_ACK_BYTES && head.startsWith(ACK_PREFIX)) {
        throw new ResumeProtocolError('ack', `an ack frame of ${data.length} bytes, longer than any count`);
      }
      acked = parseAck(head);
      if (acked === undefined) {
        this.peerMessage = peerText(data);
        this.emit('text', this.peerMessage);
        return;
      }
      this.replay.ack(acked);
    } catch (err) {
      if (!(err instanceof ResumeProtocolError)) throw err;
      this.fail(err);
      return;
    }
    if (this.readingPaused) this.updateReading();
    this.maybeEnd();
  }

  private send(ws: WebSocket, chunk: Buffer): void {
    const n = chunk.length;
    this.inFlight += n;
    ws.send(chunk, BINARY, () => {
      if (this.ws !== ws) return;
      this.inFlight -= n;
      if (this.readingPaused) this.updateReading();
    });
  }

  /** Bytes came in: acknowledge now if enough are owed, or soon. */
  private owe(): void {
    if (this.received - this.lastAckSent >= this.ackBytes) this.sendAck();
    else if (!this.ackTimer) {
      this.ackTimer = setTimeout(() => this.sendAck(), this.ackMs);
      this.ackTimer.unref();
    }
  }

  private sendAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.received === this.lastAckSent) return;
    this.lastAckSent = this.received;
    ws.send(ackMessage(this.received));
  }

  /** Pauses reading the stream while the WebSocket's buffer or the window is full, resumes it once neither is. */
  private updateReading(): void {
    // As Relay does: once paused for a full send buffer, read again only when
    // it has drained, not at the first byte below the mark (which paused and
    // resumed the stream ten times as often, at a cost in CPU the bench saw).
    const sendFull = this.ws !== undefined && (this.readingPaused ? this.inFlight > 0 : this.inFlight >= this.highWaterMark);
    const pause = !this.over && (this.replay.full || sendFull);
    if (pause === this.readingPaused) return;
    this.readingPaused = pause;
    if (pause) this.stream.pause();
    else this.stream.resume();
  }

  /** The stream ended: once every byte is acknowledged, the session ends with 1000. */
  private maybeEnd(): void {
    const ws = this.ws;
    if (!this.streamEnded || this.over || !ws || this.replay.size > 0) return;
    this.over = true;
    this.settle('stream ended');
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, closeReason('EOF'));
    else ws.terminate();
  }

  private fail(err: ResumeProtocolError): void {
    this.error ??= err;
    this.giveUp(err.message, 1002);
  }

  private giveUp(reason: string, code: number): void {
    this.settle(reason);
    this.over = true;
    clearTimeout(this.resumeTimer);
    const ws = this.ws;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
      ws.close(code, closeReason(reason));
      // A peer behind a dead link never answers the close frame: do not wait ws's 30 s for it.
      setTimeout(() => ws.terminate(), this.lingerMs).unref();
    } else if (ws) this.ws = undefined;
    this.endStream();
    this.updateReading();
    this.finish();
  }

  /** Flushes what was written, sends FIN, reads and discards until the peer closes or the linger time is up (as Relay). */
  private endStream(): void {
    if (this.streamClosed) return;
    this.stream.end();
    this.readingPaused = false;
    this.stream.resume();
    setTimeout(() => this.stream.destroy(), this.lingerMs).unref();
  }

  /** Records the first cause of the end; later ones are consequences. */
  private settle(reason: string): void {
    this.reason ??= reason;
  }

  private finish(): void {
    if (this.finished || !this.over || !this.streamClosed || this.ws) return;
    this.finished = true;
    clearTimeout(this.ackTimer);
    clearTimeout(this.resumeTimer);
    const peakReplay = this.replay.peak;
    this.replay.close();
    this.down.close();
    this.emit('close', {
      reason: this.reason ?? 'closed',
      sent: this.replay.sent,
      received: this.received,
      replayed: this.replayed,
      resumes: Math.max(0, this.attachments - 1),
      peakReplay,
      peerMessage: this.peerMessage,
      error: this.error,
    });
  }
}
