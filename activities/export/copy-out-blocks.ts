import { Readable } from 'node:stream';
import type { Connection, Submittable } from 'pg';
import type { BufferPool } from './buffer-pool';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
// May come before or among the rows of a COPY out; carry nothing the export needs.
const SKIPPED = new Set([
  0x48 /* CopyOutResponse */, 0x53 /* ParameterStatus */, 0x4e /* Notice */, 0x41 /* Notification */,
]);
const HEADER_BYTES = 5;

/**
 * `COPY … TO STDOUT` as a stream of fixed-size blocks of the raw output, for pg's
 * `client.query()`.
 *
 * Postgres sends every row as its own CopyData message. pg-copy-streams, which
 * this replaces on the export path, allocates a buffer per row and joins them per
 * socket read; at millions of rows that was a tenth of the export's CPU time,
 * mostly garbage collection. Here each socket chunk is compacted in place (row
 * payloads moved over the 5-byte message headers, no allocation) and copied once
 * into a block of the pool's size, the unit the part encoder compresses (and
 * gives back to the pool when done with it).
 *
 * The protocol handling follows pg-copy-streams: while the COPY runs, this takes
 * the connection's socket from pg; at CopyDone or ErrorResponse it hands the
 * unread bytes back, so pg reads CommandComplete/ReadyForQuery or the error and
 * reports the error to `handleError`. (pg-copy-streams stays the tests' oracle.)
 * Unlike it, the stream ends only at ReadyForQuery, so an error after CopyDone
 * fails the export and `rowCount` is set by the time a reader sees the end.
 */
export class CopyOutBlocks extends Readable implements Submittable {
  /** Rows COPY reported in its CommandComplete, once finished. */
  rowCount = 0;
  /**
   * CopyData messages seen so far. Postgres sends each output line (a row, or the
   * header) as one message, so this counts rows for free: the alternative, finding
   * row ends in the bytes, has to track CSV quoting and cost more CPU than the rest
   * of the export on quote-heavy text. It runs at most a block ahead of the blocks
   * pushed.
   */
  messages = 0;
  private connection: Connection | undefined;
  private pgDataHandler: ((chunk: Buffer) => void) | undefined;
  /** Whether this holds the socket (between submit and hand-back). */
  private holding = false;
  private copyDone = false;
  private wanted = false;
  private forwarding = false;
  private header = Buffer.alloc(HEADER_BYTES);
  private headerHave = 0;
  private code = 0;
  /** Payload bytes of the current message not yet read. */
  private remaining = 0;
  private block: Buffer | undefined;
  private blockUsed = 0;
  private readonly onReadable = (): void => this.forward();

  constructor(
    private readonly text: string,
    private readonly blocks: BufferPool,
  ) {
    // Object mode: each read is one block (a byte-mode read joins whatever is buffered).
    super({ objectMode: true, highWaterMark: 1 });
  }

  /** pg's contract: an Error returned (not thrown) fails this query and frees the client. */
  submit(connection: Connection): Error | undefined {
    this.connection = connection;
    const socket = connection.stream;
    const listeners = socket.listeners('data');
    if (listeners.length !== 1)
      return new Error(`COPY out: expected pg's one socket data listener, found ${listeners.length}`);
    this.pgDataHandler = listeners[0] as (chunk: Buffer) => void;
    socket.removeListener('data', this.pgDataHandler);
    socket.pause();
    socket.on('readable', this.onReadable);
    this.holding = true;
    connection.query(this.text);
    return undefined;
  }

  override _read(): void {
    this.wanted = true;
    this.forward();
  }

  /** pg reports errors to the active query: an ErrorResponse after hand-back, or a lost connection. */
  handleError(err: Error): void {
    this.destroy(err);
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rowCount = Number(m[1]);
  }

  /**
   * The stream ends here, not at CopyDone: by now pg has read CommandComplete
   * (rowCount is known) or reported a late error through handleError.
   */
  handleReadyForQuery(): void {
    if (!this.destroyed && this.copyDone) this.push(null);
  }

  private forward(): void {
    if (this.forwarding || !this.wanted || !this.holding) return;
    this.forwarding = true;
    const socket = this.connection!.stream;
    let chunk: Buffer | null;
    while (this.wanted && this.holding && (chunk = socket.read() as Buffer | null) !== null) {
      this.wanted = this.parse(chunk);
    }
    this.forwarding = false;
  }

  /** Takes one socket chunk; returns whether more is wanted now. */
  private parse(chunk: Buffer): boolean {
    let i = 0;
    // Row payloads are moved to the front of the chunk (w ≤ i always, so unread bytes stay intact).
    let w = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        if (this.code === COPY_DATA) {
          if (w !== i) chunk.copyWithin(w, i, i + n);
          w += n;
        }
        i += n;
        this.remaining -= n;
        continue;
      }
      // Where this message starts, for handing it back (-1: its header came split, in this.header).
      let start = i;
      if (this.headerHave === 0 && chunk.length - i >= HEADER_BYTES) {
        this.code = chunk[i];
        this.remaining = chunk.readUInt32BE(i + 1) - 4;
        i += HEADER_BYTES;
      } else {
        // A header split across socket reads.
        const n = Math.min(HEADER_BYTES - this.headerHave, chunk.length - i);
        chunk.copy(this.header, this.headerHave, i, i + n);
        this.headerHave += n;
        i += n;
        if (this.headerHave < HEADER_BYTES) break;
        this.headerHave = 0;
        start = -1;
        this.code = this.header[0];
        this.remaining = this.header.readUInt32BE(1) - 4;
      }
      if (this.code === COPY_DATA) {
        this.messages++;
        continue;
      }
      if (SKIPPED.has(this.code)) continue;
      this.append(chunk, w);
      // Built only here, off the per-row path.
      const unread = (): Buffer =>
        start >= 0 ? chunk.subarray(start) : Buffer.concat([this.header, chunk.subarray(i)]);
      if (this.code === COPY_DONE) {
        this.flushBlock();
        this.copyDone = true;
        this.handBack(chunk.subarray(i));
      } else if (this.code === ERROR_RESPONSE) {
        // pg parses the error and calls handleError.
        this.handBack(unread());
      } else {
        const code = this.code;
        this.handBack(unread());
        this.destroy(new Error(`COPY out: unexpected protocol message '${String.fromCharCode(code)}'`));
      }
      return false;
    }
    return this.append(chunk, w);
  }

  /** Appends chunk[0, end) to the blocks, pushing each block that fills. */
  private append(chunk: Buffer, end: number): boolean {
    let more = true;
    let from = 0;
    while (from < end) {
      this.block ??= this.blocks.take();
      const n = Math.min(end - from, this.block.length - this.blockUsed);
      chunk.copy(this.block, this.blockUsed, from, from + n);
      this.blockUsed += n;
      from += n;
      if (this.blockUsed === this.block.length) {
        more = this.push(this.block) && more;
        this.block = undefined;
        this.blockUsed = 0;
      }
    }
    return more;
  }

  private flushBlock(): void {
    if (this.block && this.blockUsed > 0) this.push(this.block.subarray(0, this.blockUsed));
    this.block = undefined;
    this.blockUsed = 0;
  }

  /** Gives the socket back to pg, with the bytes this did not read. */
  private handBack(unread: Buffer): void {
    const socket = this.connection!.stream;
    const handler = this.pgDataHandler!;
    this.holding = false;
    socket.removeListener('readable', this.onReadable);
    socket.on('data', handler);
    if (unread.length > 0) handler(unread);
    // pg's handler or the listener swap may leave the socket paused; resume once they are done.
    process.nextTick(() => socket.resume());
  }
}
