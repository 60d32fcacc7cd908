import { ERROR_REGISTRY } from '../../common/errors';

/*
 * Exit codes: 0 success, 1 the work failed (a delivery, a verification), 2 bad
 * usage or input. An error's own code comes from the registry (exitCodeFor).
 */

/** The work failed: a delivery or a verification did not succeed. */
export const EXIT_FAILED = 1;
/** Bad usage, as commander reports it, exits as bad input does. */
export const EXIT_USAGE = ERROR_REGISTRY.ValidationError.exitCode;

/** Thrown by a command that has printed its result and must still end with this code. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
