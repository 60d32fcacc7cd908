import { loadavg } from 'node:os';

/**
 * The machine's 1-minute load before a bench started: bench.sh notes it before its own
 * install and build raise it (DATASHARE_BENCH_LOAD_BEFORE); run directly, the load now.
 */
export function loadBeforeBench(): number {
  const noted = process.env.DATASHARE_BENCH_LOAD_BEFORE;
  return noted && Number.isFinite(Number(noted)) ? Number(noted) : loadavg()[0];
}
