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

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /**
   * Takes back a buffer no one uses any more. Only a view of a whole buffer of
   * this pool's size is kept: a view of part of one may share its memory with
   * bytes still in use.
   */
  give(view: Buffer): void {
    const whole = view.byteOffset === 0 && view.buffer.byteLength === this.size;
    if (!whole || this.free.length >= this.keep) return;
    if (this.free.some((b) => b.buffer === view.buffer)) throw new Error('BufferPool: a buffer was given back twice');
    this.free.push(Buffer.from(view.buffer, 0, this.size));
  }
}
