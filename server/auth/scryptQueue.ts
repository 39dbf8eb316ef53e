/**
 * Runs scrypt hashes a few at a time, in arrival order.
 *
 * crypto.scrypt runs on libuv's thread pool (4 threads unless
 * UV_THREADPOOL_SIZE says otherwise), the same pool that resolves target host
 * names (dns.lookup) for every tunnel. A burst of logins would otherwise
 * queue hundreds of 40 ms hashes there, and a good tunnel to a host name
 * would wait seconds for its lookup. Bounding the hashes to half the pool
 * keeps the other half free for lookups.
 */
import crypto from 'node:crypto';

export interface ScryptJob {
  secret: Buffer;
  salt: Buffer;
  keyBytes: number;
  N: number;
  r: number;
  p: number;
}

/** Half of libuv's pool, at least one. */
export function defaultScryptConcurrency(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.floor(pool / 2));
}

export class ScryptQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly concurrency = defaultScryptConcurrency()) {}

  /** Hashes queued or running now. */
  get pending(): number {
    return this.running + this.waiting.length;
  }

  async hash(job: ScryptJob): Promise<Buffer> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await new Promise<Buffer>((resolve, reject) =>
        crypto.scrypt(job.secret, job.salt, job.keyBytes, { N: job.N, r: job.r, p: job.p, maxmem: maxmem(job.N, job.r) }, (err, key) =>
          err ? reject(err) : resolve(key),
        ),
      );
    } finally {
      // The slot passes straight to the next job, so `running` never dips.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** scrypt needs about 128·N·r bytes; Node's default cap (32 MiB) is too low for some valid lines. */
export function maxmem(N: number, r: number): number {
  return 128 * N * r * 2 + 1024 * 1024;
}

/** The queue every users file's checks go through, so the bound holds for the whole process. */
export const scryptQueue = new ScryptQueue();
