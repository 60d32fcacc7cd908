import type { UploadPartCommand } from '@aws-sdk/client-s3';

/**
 * Bytes of part bodies put on the wire, counted once per HTTP attempt: the SDK's own
 * retries (a 503 SlowDown, a reset, a timed-out socket) send a part's body again
 * without our code seeing it, and uploadedBytes must count those too. An attempt
 * cut off mid-body counts its whole body: an upper bound, never an undercount.
 */
export class SentBytes {
  private pending = 0;
  private total = 0;

  /** Counts each attempt of `command` (a middleware below the SDK's retry loop, so it runs once per try). */
  watch(command: UploadPartCommand): UploadPartCommand {
    command.middlewareStack.add(
      (next) => (args) => {
        const body = (args.request as { body?: unknown }).body;
        const n = Buffer.isBuffer(body) || body instanceof Uint8Array ? body.byteLength : 0;
        this.pending += n;
        this.total += n;
        return next(args);
      },
      { step: 'deserialize', name: 'datashareSentBytes', priority: 'low' },
    );
    return command;
  }

  /** Bytes counted since the last take (to add to the delivery's uploaded_bytes). */
  take(): number {
    const n = this.pending;
    this.pending = 0;
    return n;
  }

  /** Everything counted by this attempt. */
  get sent(): number {
    return this.total;
  }
}
