/**
 * Room under V8's old-generation limit for a process that relays bytes.
 *
 * Relaying allocates a buffer for every chunk: Node's read buffer, then the
 * masked frame or the frame put together from two reads. The ones still in
 * flight at a young collection are promoted, and their bytes count against
 * the old generation until the next full collection. With a live heap of 8
 * to 15 MB (a process with a few hundred tunnels open) V8 sets its limit so
 * close above what is live that those promoted buffers reach it every few MB
 * relayed: measured, about 30 full collections per 512 MiB and twice the CPU
 * per byte of the same process with room (docs/benchmark.md, "Many tunnels at once").
 *
 * `node --initial-old-space-size=64` gives that room, but V8 reads it only
 * at start, and nothing that starts wssh can pass it: NODE_OPTIONS refuses
 * it, a bin's shebang can't portably carry it, and Electron reads V8 flags
 * for its main process only from its own command line. V8 reads
 * `--heap-growing-percent` at every full collection instead, so it can be
 * set from inside: after each collection this sets the factor that puts the
 * next limit `headroom` above the heap in use. Once the heap is bigger than
 * `headroom` it gives the choice back to V8, whose own factor then makes the
 * room grow with the heap.
 *
 * The factor is set after every collection, young ones too, because the
 * next full collection applies it to the heap it finds: set once from a
 * small heap, a factor of 20 would let a heap that has since grown to 150 MB
 * (thousands of tunnels opened) grow to 3 GB. What is in use after a young
 * collection includes the old generation's garbage, so the limit lands about
 * `headroom` above the live heap the next full collection finds, a little
 * more when the heap grew since the last young one (the test allows half as
 * much again).
 *
 * A process started with either flag on its command line keeps what it was
 * given: that is how to turn this off (`--heap-growing-percent=0`).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/** The room kept above the live heap while the heap is smaller than it. */
export const DEFAULT_HEAP_HEADROOM = 64 * 1024 * 1024;

const HEAP_FLAGS = /^--(initial-old-space-size|initial_old_space_size|heap-growing-percent|heap_growing_percent)=/;

/**
 * The `--heap-growing-percent` that puts the limit `headroom` above `used`
 * bytes, or 0 (V8's own factor) once that would be under 100 % (a heap
 * bigger than the headroom).
 */
export function growingPercent(used: number, headroom: number = DEFAULT_HEAP_HEADROOM): number {
  if (used <= 0) return 0;
  const percent = Math.floor((100 * headroom) / used);
  return percent >= 100 ? percent : 0;
}

/**
 * Keeps `headroom` bytes under the old-generation limit for as long as the
 * process runs (a process-wide setting: call it from a command's entry
 * point, not from a library). Returns a function that stops it and gives the
 * factor back to V8. Does nothing when the command line set a heap flag.
 */
export function keepHeapHeadroom(headroom: number = DEFAULT_HEAP_HEADROOM, execArgv: readonly string[] = process.execArgv): () => void {
  if (execArgv.some((arg) => HEAP_FLAGS.test(arg))) return () => {};
  let current = -1;
  const apply = () => {
    const percent = growingPercent(v8.getHeapStatistics().used_heap_size, headroom);
    if (percent === current) return;
    current = percent;
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  };
  apply();
  // GC entries arrive in a batch soon after the collection, so the heap
  // read then is close to what survived it. The observer holds no handle:
  // it never keeps the process alive.
  const observer = new PerformanceObserver(apply);
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    if (current !== 0) v8.setFlagsFromString('--heap-growing-percent=0');
    current = 0;
  };
}
