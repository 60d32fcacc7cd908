/**
 * Buffers of one size, handed out and taken back, so a file's export allocates
 * its working set once instead of a fresh 2-7 MiB buffer per block and part.
 *
 * Why: those buffers live outside the V8 heap, and V8 frees them only when a
 * garbage collection happens to run; with fresh buffers per block a worker
 * carried 50-80 MB of dead ones at its peak. Reuse keeps memory flat.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** The memory this pool allocated: nothing else is ever taken in. */
  private readonly own = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    const reused = this.free.pop();
    if (reused) return reused;
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.own.add(fresh.buffer);
    return fresh;
  }

  /**
   * Takes back a buffer of this pool (or any view of one) that no one uses any
   * more; anything else is left to the garbage collector. Giving one back twice
   * keeps it once, so it is never handed out to two users.
   */
  give(view: Buffer): void {
    if (!this.own.has(view.buffer) || this.free.length >= this.keep) return;
    if (this.free.some((b) => b.buffer === view.buffer)) return;
    this.free.push(Buffer.from(view.buffer, 0, this.size));
  }
}
