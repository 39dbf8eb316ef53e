/**
 * The relay between a byte stream (a TCP socket, or stdin/stdout) and a
 * WebSocket that carries the same bytes as binary frames.
 *
 * Guarantees, each tested on real sockets:
 * - every byte arrives once and in order;
 * - backpressure on both hops: reading the stream pauses while the WebSocket's
 *   send buffer holds `highWaterMark` bytes, and reading the WebSocket pauses
 *   while the stream's write buffer is full, so memory stays flat however
 *   large the transfer and however slow the far reader;
 * - an end of the stream (TCP FIN) closes the WebSocket only after the bytes
 *   read before it (the close frame queues behind them); a WebSocket close ends
 *   the stream after the bytes already written to it are flushed;
 * - text frames are control messages (an old server's error text): they are
 *   reported, never written into the SSH stream.
 *
 * A WebSocket has no half-close, so the first FIN ends the whole tunnel once
 * the bytes before it are through; what the other side sends after that is
 * dropped. SSH never half-closes: each side closes when the session is over.
 */
import { cutToBytes, peerText } from './peerText';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { DEFAULT_KEEPALIVE_MS, startKeepalive } from './keepalive';
import { type BudgetAccount, type BufferBudget, processBudget } from './bufferBudget';

export interface RelayOptions {
  /**
   * Pause reading the stream while this many bytes wait in the WebSocket's
   * send buffer: enough to keep one tunnel at full speed, no more (measured
   * with `npm run bench`). @default DEFAULT_HIGH_WATER_MARK
   */
  highWaterMark?: number;
  /**
   * The process's budget of bytes buffered across all tunnels
   * (bufferBudget.ts). @default one budget per process of DEFAULT_MAX_BUFFERED
   */
  budget?: BufferBudget;
  /** WebSocket ping interval in ms; 0 turns pings off. @default {@link DEFAULT_KEEPALIVE_MS} (30 s) */
  keepaliveMs?: number;
  /**
   * After the WebSocket closed and the stream was ended, how long to keep
   * reading (and discarding) from a peer that has not closed its side yet,
   * before the socket is destroyed. Closing at once with unread bytes would
   * send a TCP RST, which can make the peer drop the last bytes we sent.
   * @default 5000
   */
  lingerMs?: number;
}

/**
 * Bytes one tunnel may queue toward the WebSocket before reading pauses
 * (`--tunnel-buffer`). Below it sit the kernel's socket buffers (megabytes on
 * a fast link once autotuned), so it needs only to bridge the moment between
 * a drain and the next read: `npm run bench -- --single --tunnel-buffer K`
 * for 64…1024 KiB gave a lower upload at 64 and 128 KiB and no gain above
 * 256 KiB (on a loaded 2-core machine; see docs/benchmark.md). It was 1 MiB.
 */
export const DEFAULT_HIGH_WATER_MARK = 256 * 1024;

const DEFAULT_LINGER_MS = 5000;

export interface RelayResult {
  /** Why the relay ended, in words: "stream ended", "WebSocket closed (1000)", "ping timeout", … */
  reason: string;
  /** Bytes read from the stream and sent on the WebSocket. */
  toWebSocket: number;
  /** Bytes received on the WebSocket and written to the stream. */
  toStream: number;
  /** A text frame the peer sent, such as an old server's error message. */
  peerMessage?: string;
}

interface RelayEvents {
  /** A text frame from the peer: a control message, never SSH bytes. */
  text: [message: string];
  /** Both sides are closed; emitted once. */
  close: [result: RelayResult];
}

/** Maximum bytes of a WebSocket close reason (RFC 6455 §5.5: a control frame's 125 minus the code). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** The bytes of the "…" that cutToBytes puts where it cut. */
const ELLIPSIS_BYTES = Buffer.byteLength('…');

/**
 * `reason` fit to be a WebSocket close reason: at most MAX_CLOSE_REASON_BYTES
 * of UTF-8, cut on a character boundary with "…". A longer one makes
 * `ws.close` throw (inside whatever handler called it); one cut by bytes
 * inside a character is invalid UTF-8, which the peer must fail the
 * connection for (RFC 6455 §8.1). Every close with a reason goes through it.
 */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  return cutToBytes(reason, MAX_CLOSE_REASON_BYTES - ELLIPSIS_BYTES, true);
}

const BINARY = { binary: true };

/**
 * Relays `stream` <-> `ws` until both are closed. `ws` must be open. Bytes the
 * stream already buffered (e.g. sent after a CONNECT request) are relayed first.
 * For TCP sockets, create them with `allowHalfOpen: true`: after the peer's FIN
 * we still write what the WebSocket delivers.
 */
export class Relay extends EventEmitter<RelayEvents> {
  toWebSocket = 0;
  toStream = 0;
  private reason: string | undefined;
  private peerMessage: string | undefined;
  private streamClosed = false;
  private wsClosed = false;
  /** Reading the WebSocket is paused until the stream has flushed what it was given. */
  private wsPaused = false;
  /** This tunnel's two directions in the buffer budget, given back when it closes. */
  private readonly accounts: BudgetAccount[];
  /** Resolves with the result once both sides are closed. */
  readonly done: Promise<RelayResult>;

  constructor(
    private readonly stream: Duplex,
    private readonly ws: WebSocket,
    options: RelayOptions = {},
  ) {
    super();
    // Read one by one, not as `{ ...DEFAULTS, ...options }`: callers pass their
    // whole options object (a dozen keys), and V8 copies a spread of that into
    // a literal slowly, 13-35 µs, a few per cent of a tunnel's open.
    const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    const keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    const lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    const budget = options.budget ?? processBudget;
    this.done = new Promise((resolve) => this.once('close', resolve));
    // What each direction holds that has not reached the kernel yet, counted
    // in the process's budget: stream -> WebSocket (the WebSocket's send
    // buffer) and WebSocket -> stream (frames read, not yet written out).
    const up: BudgetAccount = budget.open();
    const down: BudgetAccount = budget.open();
    this.accounts = [up, down];

    this.relayStreamToWebSocket(up, highWaterMark);
    this.relayWebSocketToStream(down, highWaterMark);
    this.closeWithEitherSide(lingerMs);
    startKeepalive(ws, keepaliveMs, () => this.settle('ping timeout: the peer stopped answering'));
    // dial() hands over a paused WebSocket so that no frame is emitted before
    // the listeners above exist.
    if (ws.isPaused) ws.resume();
  }

  /** Ends the relay now: the WebSocket closes with `reason`, the stream is destroyed. */
  abort(reason: string): void {
    this.settle(reason);
    this.ws.terminate();
    this.stream.destroy();
  }

  /**
   * Stream -> WebSocket. Every send's callback runs once its frame (and so
   * everything queued before it) has reached the kernel. When a send makes
   * this direction full (its high-water mark, or its share of a spent
   * budget), the stream pauses and that send's callback resumes it.
   */
  private relayStreamToWebSocket(up: BudgetAccount, highWaterMark: number): void {
    const { stream, ws } = this;
    stream.on('data', (chunk: Buffer) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const n = chunk.length;
      this.toWebSocket += n;
      up.add(n);
      if (up.full(highWaterMark)) {
        stream.pause();
        ws.send(chunk, BINARY, (err) => {
          up.remove(n);
          if (!err && !this.wsClosed) stream.resume();
        });
      } else {
        ws.send(chunk, BINARY, () => up.remove(n));
      }
    });
    const onEnd = () => {
      this.settle('stream ended');
      // Queued behind every data frame sent so far: nothing in flight is lost.
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, closeReason('EOF'));
    };
    stream.on('end', onEnd);
    // A stream that ended before the relay (a client that sent its FIN while
    // the tunnel was opening) emits no second 'end': without this the tunnel
    // would stay open, the client's socket in CLOSE-WAIT, for ever.
    if (stream.readableEnded) onEnd();
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.settle(`stream error: ${err.code ?? err.message}`);
    });
  }

  /**
   * WebSocket -> stream. A full write buffer (or a spent budget) pauses
   * the WebSocket's socket until every byte written has been flushed.
   */
  private relayWebSocketToStream(down: BudgetAccount, highWaterMark: number): void {
    const { stream, ws } = this;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        // Shown to the user and logged: cut and made safe (a hostile server's 1 MiB frame, terminal escapes).
        this.peerMessage = peerText(data as Buffer);
        this.emit('text', this.peerMessage);
        return;
      }
      if (this.streamClosed) return;
      const n = data.length;
      this.toStream += n;
      down.add(n);
      const room = stream.write(data, () => {
        down.remove(n);
        if (this.wsPaused && down.buffered === 0) this.unpauseWebSocket();
      });
      if ((!room || down.full(highWaterMark)) && !this.wsPaused && down.buffered > 0) {
        this.wsPaused = true;
        ws.pause();
      }
    });
  }

  private unpauseWebSocket(): void {
    this.wsPaused = false;
    this.ws.resume();
  }

  /** Either side's close closes the other, once what it was given is through; the relay ends when both are closed. */
  private closeWithEitherSide(lingerMs: number): void {
    const { stream, ws } = this;
    stream.on('close', () => {
      this.streamClosed = true;
      this.settle('stream closed');
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
        ws.close(this.reason === 'stream ended' ? 1000 : 1011, closeReason(this.reason ?? 'closed'));
      }
      // Nothing is left to deliver; a paused WebSocket would never read the
      // peer's close frame and hang on until ws's 30 s close timeout.
      if (this.wsPaused) this.unpauseWebSocket();
      this.finish();
    });
    ws.on('error', (err) => {
      this.settle(`WebSocket error: ${err.message}`);
    });
    ws.on('close', (code, reasonBuffer) => {
      this.wsClosed = true;
      const text = peerText(reasonBuffer);
      if (this.peerMessage !== undefined) this.settle(`peer said: ${this.peerMessage}`);
      else if (code === 1006) this.settle('connection to the peer was lost');
      else this.settle(`peer closed the WebSocket (${code}${text ? ' ' + text : ''})`);
      if (!this.streamClosed) {
        // Flush what was written, send FIN, keep reading until the peer closes
        // too (or the linger time is up) so that no RST can overtake our bytes.
        stream.end();
        stream.resume();
        setTimeout(() => stream.destroy(), lingerMs).unref();
      }
      this.finish();
    });
  }

  /** Records the first cause of the end; later ones are consequences. */
  private settle(reason: string): void {
    this.reason ??= reason;
  }

  private finish(): void {
    if (!this.streamClosed || !this.wsClosed) return;
    for (const account of this.accounts) account.close();
    this.emit('close', {
      reason: this.reason ?? 'closed',
      toWebSocket: this.toWebSocket,
      toStream: this.toStream,
      peerMessage: this.peerMessage,
    });
  }
}
