import { Datashare } from '../datashare';

/** A command's action with its own Datashare, closed afterwards whether the action succeeds or not. */
export function withDatashare<A extends unknown[]>(
  fn: (ds: Datashare, ...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const ds = new Datashare();
    try {
      await fn(ds, ...args);
    } finally {
      await ds.close();
    }
  };
}
