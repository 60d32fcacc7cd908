/**
 * Reads `read()` every `everyMs` until `done` holds, or until `timeoutMs` has
 * passed; returns the last value read either way, so the caller decides what a
 * timeout means. `onPending` sees each value that is not done yet (progress).
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  opts: { everyMs: number; timeoutMs?: number; onPending?: (value: T) => void },
): Promise<T> {
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    opts.onPending?.(value);
    await new Promise((r) => setTimeout(r, opts.everyMs));
  }
}
