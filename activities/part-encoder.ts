import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { Compression } from '../common/types';

const gzip = promisify(gzipCb);

/** Raw bytes per gzip member: the unit of compression work and of resumable determinism. */
export const BLOCK_BYTES = 2 * 1024 * 1024;
// zlib's default 16 KiB output chunks cost a round trip to the thread pool each;
// one 1 MiB chunk holds a compressed 2 MiB block (level 1 roughly halves CSV).
const GZIP_OUTPUT_CHUNK = 1024 * 1024;

/**
 * Encodes raw export bytes into upload parts, deterministically.
 *
 * Raw bytes are cut into blocks of exactly `blockBytes` (whatever the chunking of
 * the input), and with gzip each block becomes its own gzip member; concatenated
 * members form one valid gzip file. A part is emitted as soon as the encoded
 * blocks reach `partBytes`. So the same bytes in always give the same parts out,
 * which is what lets an interrupted file be regenerated and continued
 * byte-identically. Compression runs on libuv's thread pool, off the event loop,
 * with a few blocks compressing at once while COPY keeps streaming; their output
 * is taken strictly in order. Level 1 keeps up with Postgres at a fair ratio.
 */
export class PartEncoder {
  private raw: Buffer[] = [];
  private rawBytes = 0;
  private out: Buffer[] = [];
  private outBytes = 0;
  private encoding: Promise<Buffer>[] = [];

  constructor(
    private readonly compression: Compression,
    private readonly partBytes: number,
    private readonly blockBytes: number = BLOCK_BYTES,
    private readonly blocksInFlight: number = 2,
  ) {}

  /** Adds raw bytes; returns the parts that became complete (usually none or one). */
  async push(chunk: Buffer): Promise<Buffer[]> {
    this.raw.push(chunk);
    this.rawBytes += chunk.length;
    const parts: Buffer[] = [];
    while (this.rawBytes >= this.blockBytes) {
      this.encoding.push(this.encode(this.takeRaw(this.blockBytes)));
      while (this.encoding.length > this.blocksInFlight) await this.collect(parts);
    }
    return parts;
  }

  /** Encodes what is left; the last part may be small (S3 allows it). */
  async finish(): Promise<Buffer | undefined> {
    if (this.rawBytes > 0) this.encoding.push(this.encode(this.takeRaw(this.rawBytes)));
    const parts: Buffer[] = [];
    while (this.encoding.length > 0) await this.collect(parts);
    // Whatever completes at the very end leaves as one last part (S3 allows a large last part).
    if (this.outBytes > 0) parts.push(this.takePart());
    return parts.length > 1 ? Buffer.concat(parts) : parts[0];
  }

  /** Appends the oldest block's encoding to the output, cutting a part when it is full. */
  private async collect(parts: Buffer[]): Promise<void> {
    const encoded = await this.encoding.shift()!;
    this.out.push(encoded);
    this.outBytes += encoded.length;
    if (this.outBytes >= this.partBytes) parts.push(this.takePart());
  }

  private takeRaw(n: number): Buffer {
    const all = this.raw.length === 1 ? this.raw[0] : Buffer.concat(this.raw, this.rawBytes);
    const block = all.subarray(0, n);
    const rest = all.subarray(n);
    this.raw = rest.length ? [rest] : [];
    this.rawBytes = rest.length;
    return block;
  }

  private async encode(block: Buffer): Promise<Buffer> {
    // Without compression the block (a view of the raw bytes) is used as is: no copy.
    return this.compression === 'gzip' ? gzip(block, { level: 1, chunkSize: GZIP_OUTPUT_CHUNK }) : block;
  }

  private takePart(): Buffer {
    const part = Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    return part;
  }
}
