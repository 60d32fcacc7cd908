import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { migrate } from '../../common/store/migrate';
import { REPO_ROOT, TEST_DATABASE, readStackEnv, testEnv } from '../../scripts/local/stack-env';

/**
 * Starts the real local services (idempotent) and gives the suite a fresh,
 * migrated database of its own.
 */
export default async function setup(): Promise<void> {
  // npm test starts the stack before vitest; a bare `npx vitest` starts it here.
  if (process.env.DATASHARE_STACK_STARTED !== '1') {
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'stack', 'start.sh')], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  const admin = new Client({ connectionString: readStackEnv().DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEST_DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEST_DATABASE}`);
  await admin.end();
  const pool = new Pool({ connectionString: testEnv().DATABASE_URL });
  await migrate(pool);
  await pool.end();
}
