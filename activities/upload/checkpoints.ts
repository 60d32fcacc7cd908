import type { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { DeliveredFile } from '../../common/contracts/delivery';
import { recordFile, recordProgress } from '../../common/store/delivery-progress';
import {
  asCheckpoint,
  clearCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type FileCheckpoint,
  type PartRecord,
} from '../../common/store/export-state';

/**
 * Where one file's multipart upload stands: its upload id and the parts done,
 * kept in the activity's heartbeat (which Temporal hands the next attempt) and in
 * our table (which a cancel reads to abort open uploads, and which outlives a
 * heartbeat that lagged). Never read back from S3, which would need more than
 * s3:PutObject.
 */
export class UploadCheckpoint {
  private current: FileCheckpoint | undefined;
  private previousParts: PartRecord[] = [];
  private readonly done = new Map<number, PartRecord>();

  constructor(
    private readonly metaPool: Pool,
    private readonly file: { deliveryId: string; fileIndex: number },
    private readonly ctx: Context,
  ) {}

  /** What an interrupted attempt left of the upload of `key`, if anything. */
  async previous(key: string): Promise<FileCheckpoint | undefined> {
    // Our table is written after every part; heartbeats are throttled and may lag it,
    // so both are read and their parts merged (same upload only).
    const previous = mergeCheckpoints(
      asCheckpoint(this.ctx.info.heartbeatDetails),
      await loadCheckpoint(this.metaPool, this.file.deliveryId, this.file.fileIndex),
    );
    return previous && previous.key === key ? previous : undefined;
  }

  /**
   * Starts from what `previous` found, or from a new upload, which is recorded
   * before any part: a cancel must find every upload it has to abort.
   */
  async begin(key: string, uploadId: string, previous: FileCheckpoint | undefined): Promise<void> {
    this.current = { key, uploadId, parts: previous?.parts ?? [] };
    this.previousParts = previous?.parts ?? [];
    if (!previous) await saveCheckpoint(this.metaPool, this.file.deliveryId, this.file.fileIndex, this.current);
  }

  /** The parts the interrupted attempt had uploaded, which this one must regenerate identically. */
  get earlier(): readonly PartRecord[] {
    return this.previousParts;
  }

  /** Heartbeats the checkpoint every `ms` until the returned function is called. */
  heartbeatEvery(ms: number): () => void {
    const beat = setInterval(() => this.ctx.heartbeat(this.current), ms);
    return () => clearInterval(beat);
  }

  /** A part an earlier attempt uploaded, proven unchanged: it completes the file without being sent again. */
  keep(part: PartRecord): void {
    this.done.set(part.n, part);
  }

  /**
   * A part S3 accepted: counted, then checkpointed. `sentBytes` is every part byte put
   * on the wire since the last count (SentBytes): this part's, with each SDK retry of
   * it, and any other part's failed tries.
   */
  async uploaded(part: PartRecord, sentBytes: number): Promise<void> {
    // Count the bytes as sent before checkpointing the part: a crash between the two
    // then re-sends the part and counts it twice, which is what uploadedBytes means;
    // the other order would lose a sent part from the count.
    await recordProgress(this.metaPool, this.file.deliveryId, {
      rowsDelta: part.rows,
      bytesDelta: part.bytes,
      uploadedBytesDelta: sentBytes,
    });
    this.done.set(part.n, part);
    const checkpoint = this.current!;
    checkpoint.parts = this.parts();
    this.ctx.heartbeat(checkpoint);
    await saveCheckpoint(this.metaPool, this.file.deliveryId, this.file.fileIndex, checkpoint);
  }

  /** Bytes sent that no accepted part has counted yet (tries of parts that failed), before the attempt ends. */
  async countSent(sentBytes: number): Promise<void> {
    if (sentBytes > 0)
      await recordProgress(this.metaPool, this.file.deliveryId, {
        rowsDelta: 0,
        bytesDelta: 0,
        uploadedBytesDelta: sentBytes,
      });
  }

  /** The parts done, kept or uploaded, in part order. */
  parts(): PartRecord[] {
    return [...this.done.values()].sort((a, b) => a.n - b.n);
  }

  /** The file is complete: recorded so that a replay skips it, with nothing left to resume or abort. */
  async finish(file: DeliveredFile): Promise<void> {
    await recordFile(this.metaPool, this.file.deliveryId, this.file.fileIndex, file);
    await clearCheckpoint(this.metaPool, this.file.deliveryId, this.file.fileIndex);
  }

  /**
   * Starts this file over in a fresh upload on the next attempt. The rows and bytes its
   * parts added to the delivery's progress are taken back (they will be counted again
   * as the file is re-sent); uploadedBytes keeps them, as they were sent.
   */
  async restart(): Promise<void> {
    const counted = new Map([...this.previousParts, ...this.done.values()].map((p) => [p.n, p]));
    let rows = 0;
    let bytes = 0;
    for (const p of counted.values()) {
      rows += p.rows;
      bytes += p.bytes;
    }
    await recordProgress(this.metaPool, this.file.deliveryId, {
      rowsDelta: -rows,
      bytesDelta: -bytes,
      uploadedBytesDelta: 0,
    });
    await clearCheckpoint(this.metaPool, this.file.deliveryId, this.file.fileIndex);
    this.ctx.heartbeat({ restart: true });
  }
}

function mergeCheckpoints(a: FileCheckpoint | undefined, b: FileCheckpoint | undefined): FileCheckpoint | undefined {
  if (!a || !b) return a ?? b;
  if (a.uploadId !== b.uploadId || a.key !== b.key) return b;
  const parts = new Map([...a.parts, ...b.parts].map((p) => [p.n, p]));
  return { ...b, parts: [...parts.values()].sort((x, y) => x.n - y.n) };
}
