/**
 * The thread a fuzz job runs in (started by supervisor.ts): it runs the
 * job and posts the result. A case that hangs the thread or exhausts its
 * heap ends it instead; the supervisor then reads the input from the slot.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputSlot, runJob, type EngineJob } from './engine';
import { TARGETS } from './targets/index';

const { job, slot } = workerData as { job: EngineJob; slot: SharedArrayBuffer };
const target = TARGETS.find((t) => t.name === job.target);
if (!target) throw new Error(`no fuzz target named ${job.target}`);
runJob(target, job, new InputSlot(slot)).then(
  (result) => parentPort!.postMessage(result),
  (err: Error) => {
    throw err;
  },
);
