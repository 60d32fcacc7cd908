import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { Compression } from '../common/types';

const gzip = promisify(gzipCb);

/**
 * Encodes raw export bytes into upload parts.
 *
 * With gzip, raw bytes are compressed in blocks, each its own gzip member;
 * concatenated members form one valid gzip file. Compressing blocks rather than
 * one long stream keeps parts independent (a part can be redone alone) and runs
 * each block on libuv's thread pool, off the event loop. Level 1: the export is
 * bound by Postgres, and level 1 keeps up with it at a fair ratio.
 */
export class PartEncoder {
  private raw: Buffer[] = [];
  private rawBytes = 0;
  private out: Buffer[] = [];
  private outBytes = 0;

  constructor(
    private readonly compression: Compression,
    private readonly partBytes: number,
    private readonly blockBytes: number = 4 * 1024 * 1024,
  ) {}

  /** Adds raw bytes; returns a full part when one is ready. */
  async push(chunk: Buffer): Promise<Buffer | undefined> {
    this.raw.push(chunk);
    this.rawBytes += chunk.length;
    if (this.rawBytes >= this.blockBytes) await this.encodeBlock();
    return this.outBytes >= this.partBytes ? this.takePart() : undefined;
  }

  /** Encodes what is left; the last part may be small (S3 allows it). */
  async finish(): Promise<Buffer | undefined> {
    await this.encodeBlock();
    return this.outBytes > 0 ? this.takePart() : undefined;
  }

  private async encodeBlock(): Promise<void> {
    if (this.rawBytes === 0) return;
    const block = Buffer.concat(this.raw, this.rawBytes);
    this.raw = [];
    this.rawBytes = 0;
    const encoded = this.compression === 'gzip' ? await gzip(block, { level: 1 }) : block;
    this.out.push(encoded);
    this.outBytes += encoded.length;
  }

  private takePart(): Buffer {
    const part = Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    return part;
  }
}
