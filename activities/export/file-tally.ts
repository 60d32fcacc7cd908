import { createHash } from 'node:crypto';

/** One part of a file, numbered from 1 in the order it was cut, with what a checkpoint records of it. */
export interface CutPart {
  n: number;
  body: Buffer;
  /** Rows read from the source since the part before was cut. */
  rows: number;
  sha256: string;
  /** Gives the body back to the part encoder's pool once it is sent or skipped. */
  release(): void;
}

/** A file as its parts are cut: how many, the rows and bytes in them, and the whole file's SHA-256. */
export class FileTally {
  private cut = 0;
  private rowsAtLastCut = 0;
  private byteCount = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly release: (body: Buffer) => void) {}

  get parts(): number {
    return this.cut;
  }

  /** Numbers the next part; its rows are those read since the last part (rowsRead: the running count). */
  next(body: Buffer, rowsRead: number): CutPart {
    const rows = rowsRead - this.rowsAtLastCut;
    this.rowsAtLastCut = rowsRead;
    this.cut++;
    this.byteCount += body.length;
    this.hash.update(body);
    const sha256 = createHash('sha256').update(body).digest('hex');
    return { n: this.cut, body, rows, sha256, release: () => this.release(body) };
  }

  /** The file once its last part is cut. */
  total(rowsRead: number): { bytes: number; rows: number; sha256: string } {
    return { bytes: this.byteCount, rows: Math.max(0, rowsRead), sha256: this.hash.digest('hex') };
  }
}
