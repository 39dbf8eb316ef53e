/**
 * Runs a fuzz job in a worker thread and watches it: a worker whose case
 * outlives a stall limit is terminated (which stops even a synchronous
 * endless loop), one that runs out of heap ends on its own, and either way
 * the input it was on is read from the shared slot. The tests and
 * `npm run fuzz` both run their jobs through here.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputSlot, type EngineJob, type EngineResult } from './engine';
import { TARGETS } from './targets/index';

/** The heap a fuzz worker may grow to: a case that wants more has unbounded memory. */
const WORKER_HEAP_MB = 512;

export interface JobOutcome extends EngineResult {
  seconds: number;
}

/**
 * Runs `job`; resolves with its result, or with a failure for a worker that
 * hung (no result `stallMs` after the job's own time was up) or died.
 */
export function superviseJob(job: EngineJob, options: { stallMs?: number } = {}): Promise<JobOutcome> {
  const target = TARGETS.find((t) => t.name === job.target);
  if (!target) return Promise.reject(new Error(`no fuzz target named ${job.target}`));
  const slot = InputSlot.create();
  const started = Date.now();
  const worker = new Worker(path.join(__dirname, 'worker.js'), {
    workerData: { job, slot: slot.buffer },
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    stdout: true,
    stderr: false,
  });
  // A target's own logging (a PAC script's alert()) is not the run's output.
  worker.stdout.resume();
  const budget = (job.mode === 'fuzz' ? (job.timeLimitMs ?? 0) : 0) + (options.stallMs ?? Math.max(30_000, target.caseMs * 20));
  const seconds = () => (Date.now() - started) / 1000;
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: EngineResult) => {
      if (done) return;
      done = true;
      clearTimeout(watchdog);
      void worker.terminate();
      resolve({ ...outcome, seconds: seconds() });
    };
    const lost = (why: string) => finish({ runs: 0, peakMemoryMb: 0, failure: { input: slot.read() ?? 'null', message: why } });
    const watchdog = setTimeout(() => lost(`the worker hung: no result ${Math.round(budget / 1000)} s after it started (a case that never returns)`), budget);
    worker.on('message', (result: EngineResult) => finish(result));
    worker.on('error', (err: Error & { code?: string }) =>
      lost(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `the worker ran out of its ${WORKER_HEAP_MB} MiB heap: unbounded memory`
          : `the worker died: ${err.stack ?? err}`,
      ),
    );
    worker.on('exit', (code) => lost(`the worker exited (${code}) without a result`));
  });
}
