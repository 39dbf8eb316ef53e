/**
 * "The newest answer wins", for a view that asks the main process again
 * before an earlier answer has come back: answers need not come back in
 * order, and an older one must not paint over a newer one.
 */

/**
 * A caller that, each time, starts `work` and, once it has answered, hands
 * the answer to `use` only when no later call has started since. The answer
 * is returned either way (a caller may need it even when it is not shown).
 */
export function latestOnly(): <T>(work: () => Promise<T>, use: (answer: T) => void) => Promise<T> {
  let newest = 0;
  return async (work, use) => {
    const call = ++newest;
    const answer = await work();
    if (call === newest) use(answer);
    return answer;
  };
}
