/**
 * The bench's far end (a TCP sink, source and echo behind one port, in the
 * bench's own process) and the bytes it moves.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { HOST } from './chains';

export const MiB = 1024 * 1024;

export const CHUNK = 256 * 1024;
/** Timed transfers send slices of this buffer: no generator cost in the measurement. */
const FIXED = crypto.randomBytes(8 * MiB);

/** Produces the next `n` bytes of a stream. */
export type Chunker = (n: number) => Buffer;

export function fixedChunker(): Chunker {
  let offset = 0;
  return (n) => {
    if (offset + n > FIXED.length) offset = 0;
    const chunk = FIXED.subarray(offset, offset + n);
    offset += n;
    return chunk;
  };
}

/** AES-CTR over zeros: never repeats, so a lost, doubled or reordered chunk changes the sha256. */
export function patternChunker(seed: string): Chunker {
  const key = crypto.createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  return (n) => cipher.update(zeros.subarray(0, n));
}

/** Writes `size` bytes from `next` with backpressure; feeds `hash` with what it wrote. */
export function writeAll(socket: net.Socket, size: number, next: Chunker, hash?: crypto.Hash): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = size;
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    const pump = () => {
      while (left > 0) {
        const chunk = next(Math.min(CHUNK, left));
        left -= chunk.length;
        hash?.update(chunk);
        if (!socket.write(chunk) && left > 0) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.off('error', onError);
      resolve();
    };
    pump();
  });
}

export interface FarResult {
  /** Bytes received (UP) or sent (DOWN). */
  bytes: number;
  sha256?: string;
  /** performance.now() when the expected last byte arrived (UP). */
  lastByteAt?: number;
}

/**
 * One TCP port for sink, source and echo. A connection starts with a line
 * "MODE SIZE HASH ID\n": UP (count, and hash if HASH is 1, what follows until
 * FIN), DOWN (send SIZE bytes, then FIN), ECHO (send back what arrives).
 * The result of a connection is reported under its ID.
 */
export class FarEnd {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly results = new Map<string, { resolve(r: FarResult): void; reject(e: Error): void }>();
  port = 0;

  constructor() {
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve) => {
      this.server.listen({ port: 0, host: HOST, backlog: 4096 }, () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** The result of the connection that announces `id`. */
  expect(id: string): Promise<FarResult> {
    return new Promise((resolve, reject) => this.results.set(id, { resolve, reject }));
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 256) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const [mode, sizeText, hashText, id] = head.subarray(0, nl).toString().split(' ');
      const rest = head.subarray(nl + 1);
      const waiter = this.results.get(id);
      this.results.delete(id);
      const report = waiter ?? { resolve: () => {}, reject: () => {} };
      socket.once('error', (err) => report.reject(new Error(`far end (${mode}): ${err.message}`)));
      const size = Number(sizeText);
      const hash = hashText === '1' ? crypto.createHash('sha256') : undefined;
      if (mode === 'UP') this.sink(socket, size, rest, hash, report.resolve);
      else if (mode === 'DOWN') this.source(socket, size, id, hash, report.resolve, report.reject);
      else if (mode === 'ECHO') this.echo(socket, rest);
      else socket.destroy();
    };
    socket.on('data', onData);
  }

  private sink(socket: net.Socket, size: number, first: Buffer, hash: crypto.Hash | undefined, done: (r: FarResult) => void): void {
    let bytes = 0;
    let lastByteAt: number | undefined;
    const take = (chunk: Buffer) => {
      bytes += chunk.length;
      hash?.update(chunk);
      if (lastByteAt === undefined && bytes >= size) lastByteAt = performance.now();
    };
    if (first.length > 0) take(first);
    socket.on('data', take);
    socket.once('end', () => {
      socket.end();
      done({ bytes, sha256: hash?.digest('hex'), lastByteAt });
    });
  }

  private source(socket: net.Socket, size: number, seed: string, hash: crypto.Hash | undefined, done: (r: FarResult) => void, fail: (e: Error) => void): void {
    socket.resume(); // the client sends nothing more but its FIN
    writeAll(socket, size, hash ? patternChunker(seed) : fixedChunker(), hash).then(
      () => {
        socket.end();
        done({ bytes: size, sha256: hash?.digest('hex') });
      },
      (err: Error) => fail(err),
    );
  }

  private echo(socket: net.Socket, first: Buffer): void {
    if (first.length > 0) socket.write(first);
    // With backpressure: thousands of echoes at once must not buffer here.
    socket.pipe(socket);
  }
}
