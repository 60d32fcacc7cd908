/**
 * Deploys without lost uploads. On SIGTERM (or SIGINT) the SDK's own signal
 * handling calls Worker.shutdown(): the worker stops polling at once, and the
 * activities it runs keep going for the SDK's shutdownGraceTime — a file that
 * can finish, finishes. Then the SDK cancels them (WORKER_SHUTDOWN): an upload
 * aborts its parts in flight, lets them settle, and keeps the checkpoint of every
 * part S3 accepted (activities/upload/checkpoints.ts writes one after each part).
 * The attempt is reported failed, so Temporal retries it at once on another
 * worker, which continues the same multipart upload from that checkpoint and
 * re-sends only the parts that were in flight.
 *
 * The grace period (DATASHARE_SHUTDOWN_GRACE or --shutdown-grace, default 30s)
 * bounds the whole exit: the last part of it is kept for the cancellation and
 * its checkpoints, and at its end shutdownForceTime gives up on stragglers, so an
 * orchestrator's SIGKILL (Kubernetes' terminationGracePeriodSeconds, ECS's
 * stopTimeout; set those a few seconds longer) never lands first.
 */
import type { WorkerOptions } from '@temporalio/worker';
import { parseDuration } from '../common/domain/durations';

export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;

/** Time kept, within the grace, for cancelled uploads to settle their parts and write checkpoints. */
const CHECKPOINT_RESERVE_MS = 5_000;

export function shutdownGraceMs(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const v = flag ?? (env.DATASHARE_SHUTDOWN_GRACE || undefined);
  if (v === undefined) return DEFAULT_SHUTDOWN_GRACE_MS;
  return parseDuration(flag !== undefined ? '--shutdown-grace' : 'DATASHARE_SHUTDOWN_GRACE', v, {
    minMs: 1_000,
    maxMs: 3_600_000,
  });
}

/** The SDK's two shutdown timers for a grace period: drain first, then cancel with time left to checkpoint. */
export function shutdownOptions(graceMs: number): Pick<WorkerOptions, 'shutdownGraceTime' | 'shutdownForceTime'> {
  const reserve = Math.min(CHECKPOINT_RESERVE_MS, Math.floor(graceMs / 2));
  return { shutdownGraceTime: graceMs - reserve, shutdownForceTime: graceMs };
}

/** Says on stderr what a signal starts, once: operators watching a deploy see the drain begin. */
export function announceShutdown(graceMs: number, write: (line: string) => void): () => void {
  const say = (signal: NodeJS.Signals): void =>
    write(
      `datashare worker: ${signal}: stopped polling; files in flight get ${Math.round(graceMs / 1000)}s to finish or checkpoint their finished parts, then resume on another worker\n`,
    );
  process.once('SIGTERM', say);
  process.once('SIGINT', say);
  return () => {
    process.off('SIGTERM', say);
    process.off('SIGINT', say);
  };
}
