import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { Compression } from '../../common/contracts/delivery';
import { BufferPool } from './buffer-pool';
import { LANE_BLOCKS } from './parallel-copy';

const gzip = promisify(gzipCb);

/** Raw bytes per gzip member: the unit of compression work and of resumable determinism. */
export const BLOCK_BYTES = 2 * 1024 * 1024;
// zlib's default 16 KiB output chunks cost a round trip to the thread pool each;
// one 1 MiB chunk holds a compressed 2 MiB block (level 1 roughly halves CSV).
const GZIP_OUTPUT_CHUNK = 1024 * 1024;

/** The most a block can grow under gzip (stored blocks, member header and trailer), rounded up. */
function maxEncodedBytes(blockBytes: number): number {
  return blockBytes + Math.ceil(blockBytes / 16384) * 5 + 1024;
}

/** Where an encoder's blocks and parts come from; one set serves all the files of a worker. */
export interface EncoderPools {
  blocks: BufferPool;
  parts: BufferPool;
}

/**
 * Pools for `files` files at once, each with `blocksInFlight` blocks compressing
 * and `partsInFlight` parts uploading: what they keep is the working set.
 */
export function encoderPools(
  partBytes: number,
  files = 1,
  partsInFlight = 2,
  blocksInFlight = 2,
  blockBytes = BLOCK_BYTES,
  lanesPerFile = 1,
): EncoderPools {
  // A file read over several connections: each extra lane's blocks read ahead, one filling and one queued.
  const laneBlocks = lanesPerFile > 1 ? lanesPerFile * (LANE_BLOCKS + 2) : 0;
  return {
    // Per file: one block filling, one queued, one being cut, and those compressing.
    blocks: new BufferPool(blockBytes, files * (blocksInFlight + 3 + laneBlocks)),
    // A part is cut as soon as it reaches partBytes, so it holds at most one encoded block more.
    parts: new BufferPool(partBytes + maxEncodedBytes(blockBytes), files * (partsInFlight + 1)),
  };
}

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
 *
 * Blocks and parts come from pools (`blocks` for whoever fills the raw blocks):
 * pushed chunks become the encoder's, and the caller gives each part back with
 * `release` once it is sent.
 */
export class PartEncoder {
  readonly blocks: BufferPool;
  private readonly parts: BufferPool;
  private raw: Buffer[] = [];
  private rawBytes = 0;
  private encoding: Promise<Buffer>[] = [];
  private part: Buffer | undefined;
  private partUsed = 0;

  constructor(
    private readonly compression: Compression,
    private readonly partBytes: number,
    private readonly blockBytes: number = BLOCK_BYTES,
    private readonly blocksInFlight: number = 2,
    pools: EncoderPools = encoderPools(partBytes, 1, 2, blocksInFlight, blockBytes),
  ) {
    if (pools.blocks.size !== blockBytes || pools.parts.size < partBytes + maxEncodedBytes(blockBytes)) {
      throw new Error('PartEncoder: pools sized for other blocks or parts');
    }
    this.blocks = pools.blocks;
    this.parts = pools.parts;
  }

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
    if (this.partUsed > 0) parts.push(this.takePart());
    if (parts.length <= 1) return parts[0];
    const last = Buffer.concat(parts);
    for (const p of parts) this.release(p);
    return last;
  }

  /** Takes back a part the caller is done with (uploaded or skipped). */
  release(part: Buffer): void {
    this.parts.give(part);
  }

  /** Appends the oldest block's encoding to the part being filled, cutting it when full. */
  private async collect(parts: Buffer[]): Promise<void> {
    const encoded = await this.encoding.shift()!;
    this.part ??= this.parts.take();
    if (this.partUsed + encoded.length > this.part.length) {
      // Not expected (see maxEncodedBytes), but never worth corrupting a part over.
      const bigger = Buffer.allocUnsafe(this.partUsed + encoded.length);
      this.part.copy(bigger, 0, 0, this.partUsed);
      this.part = bigger;
    }
    encoded.copy(this.part, this.partUsed);
    this.partUsed += encoded.length;
    // Uncompressed, the encoding is the raw block itself, now copied.
    if (this.compression !== 'gzip') this.blocks.give(encoded);
    if (this.partUsed >= this.partBytes) parts.push(this.takePart());
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
    if (this.compression !== 'gzip') return block;
    const encoded = await gzip(block, { level: 1, chunkSize: GZIP_OUTPUT_CHUNK });
    // zlib has read the block by now.
    this.blocks.give(block);
    return encoded;
  }

  private takePart(): Buffer {
    const part = this.part!.subarray(0, this.partUsed);
    this.part = undefined;
    this.partUsed = 0;
    return part;
  }
}
