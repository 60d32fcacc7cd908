import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveDataset } from '../../common/store/datasets';
import { uniqueName } from '../../scripts/local/end-user-account';
import { useTestEnv } from '../../scripts/local/stack-env';
import { runCli } from '../support/cli';

/** The tenancy guard through the real CLI: a dataset that would send every end user the same rows must say so. */
describe('tenancy guard (dataset set, dataset show, schedule create --where)', () => {
  let pool: Pool;
  const table = uniqueName('tenancy_rows').replace(/-/g, '_');

  beforeAll(async () => {
    useTestEnv();
    pool = new Pool({ connectionString: process.env.DATABASE_URL });
    await pool.query(`CREATE TABLE ${table} AS SELECT g AS id, g % 2 AS tenant_id FROM generate_series(1, 4) g`);
  });

  afterAll(async () => {
    await pool?.end();
  });

  it('refuses property-less SQL with the risk explained, and nothing is saved', async () => {
    const id = uniqueName('leaky');
    const r = await runCli(['dataset', 'set', id, '--sql', `SELECT * FROM ${table}`, '--key', 'id']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('every end user would receive the same rows');
    expect(r.stderr).toContain('WHERE tenant_id = :tenant_id');
    expect(r.stderr).toContain('--same-for-everyone');
    expect(r.stdout).toBe('');
    expect((await pool.query('SELECT 1 FROM datasets WHERE id = $1', [id])).rowCount).toBe(0);
  });

  it('accepts it declared --same-for-everyone, and show (and --json) displays the mark and the timeout', async () => {
    const id = uniqueName('reference');
    const set = await runCli([
      'dataset',
      'set',
      id,
      '--sql',
      `SELECT * FROM ${table}`,
      '--key',
      'id',
      '--same-for-everyone',
      '--statement-timeout',
      '2m',
    ]);
    expect(set.code, set.stderr).toBe(0);
    const show = await runCli(['dataset', 'show', id]);
    expect(show.stdout).toContain('same for everyone');
    expect(show.stdout).toContain('statement timeout 2m');
    const json = JSON.parse((await runCli(['dataset', 'show', id, '--json'])).stdout) as {
      sameForEveryone: boolean;
      statementTimeoutMs: number;
    };
    expect(json).toMatchObject({ sameForEveryone: true, statementTimeoutMs: 120_000 });

    const perUser = uniqueName('per-user');
    expect(
      (
        await runCli([
          'dataset',
          'set',
          perUser,
          '--sql',
          `SELECT * FROM ${table} WHERE tenant_id = :tenant_id`,
          '--key',
          'id',
        ])
      ).code,
    ).toBe(0);
    const shown = JSON.parse((await runCli(['dataset', 'show', perUser, '--json'])).stdout) as {
      sameForEveryone: boolean;
      statementTimeoutMs: null;
    };
    expect(shown).toMatchObject({ sameForEveryone: false, statementTimeoutMs: null });
    expect((await runCli(['dataset', 'show', perUser])).stdout).toContain('statement timeout 10m (default)');
  });

  it('schedule create --where refuses an undeclared property-less dataset', async () => {
    // Only a row written around the library can be in this state; the schedule check is a second line.
    const id = uniqueName('undeclared');
    await saveDataset(pool, {
      id,
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      format: 'csv',
      compression: 'gzip',
      sameForEveryone: false,
    });
    const r = await runCli(['schedule', 'create', '--where', 'plan=enterprise', id, '--every', '1h']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--where would send them to every matching end user');
    expect(r.stderr).toContain('--same-for-everyone');
  });
});
