import type { Pluggable } from '@smithy/types';

/**
 * Retries one activity's AWS clients made: the SDK's own (attempts beyond the first
 * of each call, read from the call's $metadata) and our re-sends on ExpiredToken.
 * An activity adds its tally to the delivery (recordRetries), and a scheduled round
 * sums its deliveries', so throttling shows in the round's result instead of
 * vanishing inside the SDK.
 */
export class RetryTally {
  private n = 0;

  get count(): number {
    return this.n;
  }

  add(n: number): void {
    if (n > 0) this.n += n;
  }

  /** A client plugin that counts every call's extra attempts (`clientPlugins` or `middlewareStack.use`). */
  plugin<I extends object, O extends object>(): Pluggable<I, O> {
    return {
      applyToStack: (stack) => {
        // fromTemporaryCredentials applies its clientPlugins at every call, to the same STS
        // client: without this, the second AssumeRole (a refresh) fails on a duplicate name.
        stack.remove('datashareRetryTally');
        stack.add(
          (next) => async (args) => {
            try {
              const out = await next(args);
              this.add(attemptsOf(out.output) - 1);
              return out;
            } catch (e) {
              this.add(attemptsOf(e) - 1);
              throw e;
            }
          },
          { step: 'initialize', name: 'datashareRetryTally', priority: 'high' },
        );
      },
    };
  }

  /** Takes the count (to add to the delivery), leaving zero. */
  take(): number {
    const n = this.n;
    this.n = 0;
    return n;
  }
}

function attemptsOf(x: unknown): number {
  const meta = (x as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata;
  return typeof meta?.attempts === 'number' ? meta.attempts : 1;
}
