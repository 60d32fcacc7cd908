import type { PoolClient } from 'pg';
import type { BufferPool } from './buffer-pool';
import { CopyOutBlocks } from './copy-out-blocks';
import { copySql, type CopyQuery, type CopyStream } from './copy-query';
import { SliceCursor, type SliceExtent } from './key-slices';

/** Blocks a lane queues ahead of the file's writer before it lets its COPY wait (its stream holds two more). */
export const LANE_BLOCKS = 2;
/** A binary COPY's header: signature (11 bytes), flags, header-extension length; and its -1 trailer. */
const BINARY_HEADER = 19;
const BINARY_TRAILER = 2;

/** One slice of the key as a lane reads it: its bytes queued in order until the writer takes them. */
class Slice {
  readonly pieces: Buffer[] = [];
  done = false;
  rowCount = 0;
  stream: CopyOutBlocks | undefined;
  private wake: (() => void) | undefined;

  constructor(readonly lane: Lane) {}

  add(piece: Buffer): void {
    if (piece.length > 0) this.pieces.push(piece);
    this.notify();
  }

  end(rowCount: number): void {
    this.rowCount = rowCount;
    this.done = true;
    this.notify();
  }

  notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves when a piece arrives, the slice ends, or the copy fails. */
  changed(): Promise<void> {
    return new Promise((r) => (this.wake = r));
  }
}

/** A connection reading slices one after another, never more than LANE_BLOCKS blocks ahead. */
interface Lane {
  client: PoolClient;
  /** Bytes read and not yet taken by the writer. */
  queued: number;
  room?: () => void;
  /** Mid-COPY: the connection cannot be reused. */
  copying: boolean;
}

/**
 * One file's COPY run as consecutive slices of its key over several connections that
 * share one snapshot, their output joined back in key order: the same bytes one
 * statement writes. Each lane takes the next slice when it finishes one, and buffers
 * at most LANE_BLOCKS blocks ahead, so memory stays bounded however far the writer
 * lags; a lane that is ahead simply lets its COPY wait on its socket.
 *
 * Binary COPY (Parquet) frames every statement's output with a header and a trailer:
 * all but the first slice lose the header, all but the last the trailer, so the
 * joined stream is one well-formed COPY.
 */
export class ParallelCopy implements CopyStream {
  private readonly slices: Slice[] = [];
  private readonly lanes: Lane[];
  private readonly cursor: SliceCursor;
  private failure: Error | undefined;
  private finishedMessages = 0;
  private finishedRows = 0;
  private reading: Slice | undefined;
  private stopped = false;
  private readonly newSlice: (() => void)[] = [];

  /**
   * `clients[0]` is the file's own connection, which the caller releases; the others are
   * helpers already in the same snapshot, released here through `release` once done
   * (reusable unless left mid-COPY).
   */
  constructor(
    clients: PoolClient[],
    private readonly q: CopyQuery,
    private readonly extent: SliceExtent,
    private readonly blocks: BufferPool,
    private readonly release: (client: PoolClient, reusable: boolean) => Promise<void>,
  ) {
    this.lanes = clients.map((client) => ({ client, queued: 0, copying: false }));
    this.cursor = new SliceCursor(extent);
  }

  get messages(): number {
    return this.finishedMessages + (this.reading?.stream?.messages ?? 0);
  }

  get rowCount(): number {
    return this.finishedRows;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const running = this.lanes.map((lane) => this.runLane(lane));
    try {
      let out: Buffer | undefined;
      let used = 0;
      for (let i = 0; ; i++) {
        const slice = await this.sliceAt(i);
        if (!slice) break;
        this.reading = slice;
        for (;;) {
          // A lane that failed dooms the file: stop now, not when its slice comes up.
          if (this.failure) throw this.failure;
          const piece = slice.pieces.shift();
          if (piece) {
            // Re-blocked into whole pool blocks, as the part encoder cuts them.
            let from = 0;
            while (from < piece.length) {
              out ??= this.blocks.take();
              const n = Math.min(piece.length - from, out.length - used);
              piece.copy(out, used, from, from + n);
              used += n;
              from += n;
              if (used === out.length) {
                yield out;
                out = undefined;
                used = 0;
              }
            }
            this.blocks.give(piece);
            this.freeRoom(slice.lane, piece.length);
            continue;
          }
          if (slice.done) break;
          await slice.changed();
        }
        this.finishedMessages += slice.stream?.messages ?? 0;
        this.finishedRows += slice.rowCount;
        this.reading = undefined;
      }
      if (this.failure) throw this.failure;
      if (out && used > 0) yield out.subarray(0, used);
    } finally {
      this.stop();
      await Promise.allSettled(running);
      for (const lane of this.lanes.slice(1)) await this.release(lane.client, !lane.copying && !this.failure);
    }
  }

  private freeRoom(lane: Lane, bytes: number): void {
    lane.queued -= bytes;
    const room = lane.room;
    lane.room = undefined;
    room?.();
  }

  /** The i-th slice, once a lane has taken it; undefined when the range ran out first. */
  private async sliceAt(i: number): Promise<Slice | undefined> {
    while (this.slices.length <= i) {
      if (this.failure) throw this.failure;
      // Slices are listed as lanes take them, so once the range is handed out none can follow.
      if (this.exhausted) return undefined;
      await new Promise<void>((r) => this.newSlice.push(r));
    }
    return this.slices[i];
  }

  private exhausted = false;

  private announce(): void {
    for (const r of this.newSlice.splice(0)) r();
  }

  private async runLane(lane: Lane): Promise<void> {
    try {
      for (;;) {
        if (this.stopped || this.failure) return;
        const bounds = this.cursor.take();
        if (!bounds) {
          this.exhausted = true;
          return;
        }
        const slice = new Slice(lane);
        this.slices.push(slice);
        lane.copying = true;
        this.announce();
        const sql = copySql(this.q, { key: this.extent.key, ...bounds, header: this.q.header && bounds.first });
        const stream = lane.client.query(new CopyOutBlocks(sql, this.blocks));
        slice.stream = stream;
        const trim = this.q.binary ? new BinaryFraming(!bounds.first, !bounds.last) : undefined;
        let bytes = 0;
        for await (const block of stream as AsyncIterable<Buffer>) {
          if (this.stopped) return;
          bytes += block.length;
          for (const piece of trim ? trim.pass(block) : [block]) {
            lane.queued += piece.length;
            slice.add(piece);
          }
          while (lane.queued >= LANE_BLOCKS * this.blocks.size && !this.stopped)
            await new Promise<void>((r) => (lane.room = r));
        }
        if (trim) for (const piece of trim.finish()) slice.add(piece);
        lane.copying = false;
        const lower = bounds.after ?? this.extent.min - 1n;
        this.cursor.record((bounds.upTo ?? this.extent.max) - lower, bytes);
        slice.end(stream.rowCount);
      }
    } catch (e) {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
      for (const s of this.slices) s.notify();
    } finally {
      this.announce();
    }
  }

  private stop(): void {
    this.stopped = true;
    for (const lane of this.lanes) {
      lane.room?.();
      if (lane.copying) this.slices.find((s) => s.lane === lane && !s.done)?.stream?.destroy();
    }
    this.announce();
  }
}

/**
 * Drops the header of a binary COPY that continues another, and the trailer of one that
 * another continues, wherever the blocks cut them. A piece it makes may be a copy of
 * bytes rather than a pool block; giving that back to the pool is a no-op.
 */
class BinaryFraming {
  private skip: number;
  private held: Buffer | undefined;

  constructor(
    dropHeader: boolean,
    private readonly dropTrailer: boolean,
  ) {
    this.skip = dropHeader ? BINARY_HEADER : 0;
  }

  pass(block: Buffer): Buffer[] {
    let b = block;
    if (this.skip > 0) {
      const n = Math.min(this.skip, b.length);
      this.skip -= n;
      b = b.subarray(n);
    }
    if (!this.dropTrailer) return [b];
    // The last bytes wait until the stream says whether they are its trailer.
    if (b.length < BINARY_TRAILER) {
      const joined = Buffer.concat([this.held ?? Buffer.alloc(0), b]);
      const keep = Math.max(0, joined.length - BINARY_TRAILER);
      this.held = Buffer.from(joined.subarray(keep));
      return [joined.subarray(0, keep)];
    }
    const out = this.held ? [this.held] : [];
    out.push(b.subarray(0, b.length - BINARY_TRAILER));
    this.held = Buffer.from(b.subarray(b.length - BINARY_TRAILER));
    return out;
  }

  finish(): Buffer[] {
    if (this.held && (this.held.length !== BINARY_TRAILER || this.held.readInt16BE(0) !== -1))
      throw new Error('binary COPY: the output did not end with its trailer');
    return [];
  }
}
