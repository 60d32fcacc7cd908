import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileScheduleId, scheduledDeliverySuffix, whereScheduleId } from '../../common/contracts/schedule-ids';
import type { RoundSummary } from '../../common/contracts/schedules';
import type { DeliveryView } from '../../common/contracts/delivery';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  listKeys,
  type EndUserRole,
  uniqueName,
} from '../../scripts/local/end-user-account';
import { REPO_ROOT, useTestEnv } from '../../scripts/local/stack-env';
import type { ScheduleView } from '../../client/datashare';
import { runCli, type CliResult } from '../support/cli';
import { startHarness, type Harness } from '../support/harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 300,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Schedules through the real CLI (`datashare schedule …` as a separate process)
 * against the real Temporal server, with a worker of this file's own task queue.
 */
describe('schedules (Temporal Schedules, through the CLI)', () => {
  let h: Harness;
  const env: NodeJS.ProcessEnv = {};
  const taskQueue = uniqueName('schedules-test');
  const bucket = uniqueName('sched-bucket');
  const dataset = uniqueName('sched-ds');
  const created = new Set<string>();
  let role: EndUserRole;
  let table = '';

  const cli = (args: string[]): Promise<CliResult> => runCli(args, env);
  async function cliJson<T>(args: string[]): Promise<T> {
    const r = await cli([...args, '--json']);
    expect(r.code, `datashare ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  }
  async function createSchedule(args: string[]): Promise<ScheduleView> {
    const v = await cliJson<ScheduleView>(['schedule', 'create', ...args]);
    created.add(v.id);
    return v;
  }
  async function addProfile(id: string, props: Record<string, string>, prefix = `sched/${id}/`): Promise<void> {
    await h.ds.setProfile(id, {
      ...endUserProfile(role, bucket, prefix),
      ...props,
    });
  }
  const deliveriesOf = (profileId: string): Promise<DeliveryView[]> =>
    h.ds.listDeliveries({ profileId, datasetId: dataset, limit: 1000 });

  beforeAll(async () => {
    // The CLI runs from dist/ once built (npm test builds first); without this file it would lack `schedule`.
    if (
      existsSync(join(REPO_ROOT, 'dist', 'client', 'cli.js')) &&
      !existsSync(join(REPO_ROOT, 'dist', 'client', 'cli', 'schedule.js'))
    ) {
      throw new Error('dist/ predates `datashare schedule`: run `npm run build` (npm test does) before this file');
    }
    h = await startHarness({ taskQueue });
    Object.assign(env, process.env, useTestEnv(), { DATASHARE_TASK_QUEUE: taskQueue });
    table = uniqueName('sched_rows').replace(/-/g, '_');
    await h.pool.query(
      `CREATE TABLE ${table} AS SELECT g AS id, g % 2 AS tenant_id, 'row ' || g AS label, now() - g * interval '1 hour' AS updated_at
       FROM generate_series(1, 20) g`,
    );
    await h.ds.setDataset(dataset, {
      sql: `SELECT id, label FROM ${table} WHERE tenant_id = :tenant_id`,
      keyColumns: ['id'],
    });
    await createBucket('other', bucket);
    role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'sched/' });
  });

  afterAll(async () => {
    for (const id of created) await cli(['schedule', 'delete', id]).catch(() => undefined);
    await h?.stop();
  });

  it('refuses bad input with exit 2, says why, and creates nothing', async () => {
    const p = uniqueName('bad');
    await addProfile(p, { tenant_id: '1' });
    const cases: [string[], RegExp][] = [
      [[p, dataset], /--cron .* or --every/],
      [[p, dataset, '--cron', '0 2 * * *', '--every', '1h'], /either --cron or --every/],
      [[p, dataset, '--every', '90'], /--every must be a duration/],
      [[p, dataset, '--every', '1h', '--timezone', 'UTC'], /--timezone applies to --cron only/],
      [[p, dataset, '--cron', '0 2 * *'], /has 4 fields/],
      [[p, dataset, '--cron', '61 * * * *'], /Temporal refused the schedule: Minute/],
      [[p, dataset, '--cron', '0 2 30 2 *'], /would never run/],
      [[p, dataset, '--cron', '0 2 * * *', '--timezone', 'Mars/Olympus'], /not a time zone/],
      [[p, dataset, '--every', '1h', '--overlap', 'sometimes'], /--overlap/],
      [[p, dataset, '--every', '1h', '--catchup-window', '5s'], /--catchup-window must be from 10s/],
      [[p, dataset, '--every', '1h', '--max-parallel', '5'], /--where schedules only/],
      [['no-such-profile', dataset, '--every', '1h'], /no profile "no-such-profile"/],
      [[p, 'no-such-dataset', '--every', '1h'], /no dataset "no-such-dataset"/],
      [['--where', 'plan', dataset, '--every', '1h'], /not key=value/],
      [['--where', 's3_external_id=x', dataset, '--every', '1h'], /secret/],
      [['--where', 'plan=gold', p, dataset, '--every', '1h'], /give only the dataset/],
      [
        ['--where', 'plan=gold', dataset, '--every', '1h', '--max-parallel', '0'],
        /--max-parallel must be a whole number/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['schedule', 'create', ...args]);
      expect(r.code, `schedule create ${args.join(' ')} → ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    for (const args of [
      ['show', 'datashare:nope:nope'],
      ['pause', 'datashare:nope:nope'],
      ['trigger', 'datashare:nope:nope'],
      ['delete', 'datashare:nope:nope'],
    ]) {
      const r = await cli(['schedule', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('no schedule "datashare:nope:nope"');
    }
    const backfill = await cli(['schedule', 'backfill', 'datashare:nope:nope', '--from', '1h', '--to', '2h']);
    expect(backfill.code).toBe(2);
    expect(backfill.stderr).toContain('--from must be before --to');
    // Nothing was created by any of them.
    expect((await cli(['schedule', 'show', profileScheduleId(p, dataset)])).code).toBe(2);
    expect(await deliveriesOf(p)).toEqual([]);
  });

  it('delivers on every interval; pause stops it, trigger runs once now, unpause resumes, delete removes it', async () => {
    const p = uniqueName('every');
    await addProfile(p, { tenant_id: '1' });
    const id = profileScheduleId(p, dataset);
    const v = await createSchedule([p, dataset, '--every', '2s']);
    expect(v).toMatchObject({
      id,
      profileId: p,
      datasetId: dataset,
      where: null,
      every: '2s',
      overlap: 'skip',
      catchupWindow: '1h',
      paused: false,
    });
    expect(v.nextRuns.length).toBeGreaterThan(0);

    const again = await cli(['schedule', 'create', p, dataset, '--every', '5s']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`Conflict: schedule "${id}" already exists`);

    // Runs come on their own, one delivery per run, ids derived from the scheduled time.
    const first = await waitFor('two completed scheduled deliveries', async () => {
      const ds = (await deliveriesOf(p)).filter((d) => d.status === 'completed');
      return ds.length >= 2 ? ds : undefined;
    });
    for (const d of first) {
      expect(d.id.endsWith(`-${scheduledDeliverySuffix(id, p)}`)).toBe(true);
      expect(d.rows).toBe(10);
      const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(d.id)!;
      expect(Number(stamp[6]) % 2).toBe(0);
    }
    expect(new Set(first.map((d) => d.id)).size).toBe(first.length);

    const listed = await waitFor('the schedule in schedule list', async () => {
      const all = await cliJson<ScheduleView[]>(['schedule', 'list']);
      return all.find((s) => s.id === id);
    });
    expect(listed).toMatchObject({ profileId: p, every: '2s', paused: false });

    // Pause: after whatever run was already starting has registered, nothing new for three intervals.
    const paused = await cliJson<ScheduleView>(['schedule', 'pause', id, '--note', 'maintenance window']);
    expect(paused).toMatchObject({ paused: true, note: 'maintenance window', nextRuns: [] });
    await sleep(2_500);
    const atPause = (await deliveriesOf(p)).length;
    await sleep(6_500);
    expect((await deliveriesOf(p)).length).toBe(atPause);
    expect((await cli(['schedule', 'show', id])).stdout).toContain('paused  (maintenance window)');

    // Trigger runs one now, even while paused.
    const trig = await cli(['schedule', 'trigger', id]);
    expect(trig.code, trig.stderr).toBe(0);
    const triggered = await waitFor('the triggered delivery', async () => {
      const all = await deliveriesOf(p);
      return all.length === atPause + 1 && all[0].status === 'completed' ? all[0] : undefined;
    });
    expect(triggered.id.endsWith(`-${scheduledDeliverySuffix(id, p)}`)).toBe(true);
    await sleep(4_500);
    expect((await deliveriesOf(p)).length).toBe(atPause + 1);

    // show lists the recent runs with their delivery ids, as the table knows them.
    const shown = await cliJson<ScheduleView>(['schedule', 'show', id]);
    const latest = shown.recentActions![0];
    expect(latest.deliveries.deliveryIds).toEqual([triggered.id]);
    expect(latest.deliveries).toMatchObject({ total: 1, completed: 1, failed: 0 });
    expect(latest.runStatus).toBe('COMPLETED');
    const allIds = new Set((await deliveriesOf(p)).map((d) => d.id));
    for (const a of shown.recentActions!) for (const d of a.deliveries.deliveryIds) expect(allIds.has(d)).toBe(true);

    // Unpause: runs resume.
    const unpaused = await cliJson<ScheduleView>(['schedule', 'unpause', id]);
    expect(unpaused.paused).toBe(false);
    await waitFor(
      'a delivery after unpause',
      async () => ((await deliveriesOf(p)).length >= atPause + 3 ? true : undefined),
      20_000,
    );

    const del = await cli(['schedule', 'delete', id]);
    expect(del.code, del.stderr).toBe(0);
    created.delete(id);
    expect((await cli(['schedule', 'show', id])).code).toBe(2);
    await waitFor('the schedule gone from schedule list', async () => {
      const all = await cliJson<ScheduleView[]>(['schedule', 'list']);
      return all.some((s) => s.id === id) ? undefined : true;
    });
    // Let a run that was already starting finish, then nothing more arrives.
    await sleep(3_000);
    const afterDelete = (await deliveriesOf(p)).length;
    await sleep(4_500);
    expect((await deliveriesOf(p)).length).toBe(afterDelete);
  });

  it('a --where schedule delivers to every matching profile (also one added later), not to others, and lists failures', async () => {
    const plan = uniqueName('gold');
    const [a, b, late, denied, other] = ['wa', 'wb', 'wlate', 'wdenied', 'wother'].map((n) => uniqueName(n));
    await addProfile(a, { tenant_id: '1', plan });
    await addProfile(b, { tenant_id: '0', plan });
    // Matches, but its role may not write under this prefix: fails alone, the round goes on.
    await addProfile(denied, { tenant_id: '1', plan }, 'not-allowed/');
    await addProfile(other, { tenant_id: '1', plan: 'free' });
    const id = whereScheduleId({ plan }, dataset);
    // A yearly cron that will not fire during the test; --page-size 1 makes every profile its own
    // workflow run, so the round continues as new between profiles.
    const v = await createSchedule([
      '--where',
      `plan=${plan}`,
      dataset,
      '--cron',
      '0 0 1 1 *',
      '--max-parallel',
      '2',
      '--page-size',
      '1',
    ]);
    expect(v).toMatchObject({
      id,
      where: { plan },
      profileId: null,
      maxParallel: 2,
      matchingProfiles: 3,
      cron: '0 0 1 1 *',
      timezone: 'UTC',
    });

    const round = async (n: number): Promise<RoundSummary> => {
      expect((await cli(['schedule', 'trigger', id])).code).toBe(0);
      const action = await waitFor(
        `round ${n} to complete`,
        async () => {
          const s = await cliJson<ScheduleView>(['schedule', 'show', id]);
          const r = s.recentActions ?? [];
          return r.length === n && r[0].runStatus === 'COMPLETED' ? r[0] : undefined;
        },
        60_000,
        1_000,
      );
      return (await h.temporal.workflow.getHandle(action.workflowId).result()) as RoundSummary;
    };

    const r1 = await round(1);
    expect(r1).toMatchObject({
      scheduleId: id,
      profiles: 3,
      started: 3,
      completed: 2,
      failed: 1,
      skipped: 0,
      continuedAsNew: 3,
    });
    expect(r1.failures).toEqual([expect.objectContaining({ profileId: denied, type: 'AccessDenied' })]);
    for (const p of [a, b]) expect((await deliveriesOf(p)).map((d) => d.status)).toEqual(['completed']);
    expect((await deliveriesOf(denied))[0].error?.type).toBe('AccessDenied');
    expect(await deliveriesOf(other)).toEqual([]);
    const keys = await listKeys('other', bucket, 'sched/');
    for (const p of [a, b])
      expect(keys.some((k) => k.startsWith(`sched/${p}/${dataset}/`) && k.endsWith('/manifest.json'))).toBe(true);

    // A profile that starts matching after the schedule was created is in the next round.
    await addProfile(late, { tenant_id: '0', plan });
    await sleep(1_100); // a new second: the next round's delivery ids must differ from the first's
    const r2 = await round(2);
    expect(r2).toMatchObject({ profiles: 4, started: 4, completed: 3, failed: 1 });
    for (const p of [a, b]) expect((await deliveriesOf(p)).filter((d) => d.status === 'completed')).toHaveLength(2);
    expect((await deliveriesOf(late)).map((d) => d.status)).toEqual(['completed']);
    expect(await deliveriesOf(other)).toEqual([]);

    const shown = await cliJson<ScheduleView>(['schedule', 'show', id]);
    expect(shown.recentActions![0].deliveries).toMatchObject({ total: 4, completed: 3, failed: 1, running: 0 });
    expect(shown.recentActions![0].deliveries.failures.map((f) => [f.profileId, f.error.type])).toEqual([
      [denied, 'AccessDenied'],
    ]);
    expect(shown.recentActions![1].deliveries).toMatchObject({ total: 3, completed: 2, failed: 1 });
    const human = await cli(['schedule', 'show', id]);
    expect(human.stdout).toContain('4 deliveries: 3 completed, 1 failed, 0 running');

    // Ops listing: filters by status, dataset and time; one line per failure with type and message.
    const failed = await cli(['deliveries', '--status', 'failed', '--dataset', dataset, '--since', '10m']);
    const lines = failed.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines)
      expect(line).toMatch(new RegExp(`failed +${denied}/${dataset} .*AccessDenied: .*not-allowed/`));
    const completedJson = await cliJson<DeliveryView[]>([
      'deliveries',
      '--status',
      'completed',
      '--dataset',
      dataset,
      '--profile',
      a,
    ]);
    expect(completedJson.map((d) => d.status)).toEqual(['completed', 'completed']);
  });

  it('backfill takes past runs under their own ids; backfilling the same period again delivers nothing twice', async () => {
    const p = uniqueName('backfill');
    await addProfile(p, { tenant_id: '1' });
    // Incremental: each run's window must end at its scheduled time, whenever the run really happens.
    const incremental = uniqueName('sched-inc');
    await h.ds.setDataset(incremental, {
      sql: `SELECT id, label, updated_at FROM ${table} WHERE tenant_id = :tenant_id`,
      keyColumns: ['id'],
      incrementalColumn: 'updated_at',
    });
    const deliveriesOf = (profileId: string): Promise<DeliveryView[]> =>
      h.ds.listDeliveries({ profileId, datasetId: incremental, limit: 1000 });
    const id = profileScheduleId(p, incremental);
    await createSchedule([p, incremental, '--every', '10s', '--paused']);
    // Three scheduled times strictly inside the period, none on its edges.
    const tens = Math.floor(Date.now() / 10_000) * 10_000;
    const from = new Date(tens - 35_000);
    const to = new Date(tens - 5_000);
    const expected = [30_000, 20_000, 10_000].map((ago) => new Date(tens - ago));
    const r = await cli(['schedule', 'backfill', id, '--from', from.toISOString(), '--to', to.toISOString()]);
    expect(r.code, r.stderr).toBe(0);
    const done = await waitFor(
      'three backfilled deliveries',
      async () => {
        const all = await deliveriesOf(p);
        return all.length === 3 && all.every((d) => d.status === 'completed') ? all : undefined;
      },
      60_000,
      500,
    );
    const byTime = [...done].sort((x, y) => x.id.localeCompare(y.id));
    expect(byTime.map((d) => d.id.slice(0, 16))).toEqual(
      expected.map((t) =>
        t
          .toISOString()
          .replace(/[-:]/g, '')
          .replace(/\.\d+Z$/, 'Z'),
      ),
    );
    // Windows end at the scheduled times and follow on from each other: the first carries everything.
    expect(byTime.map((d) => d.window?.to)).toEqual(expected.map((t) => t.toISOString()));
    expect(byTime.map((d) => d.window?.from ?? null)).toEqual([
      null,
      expected[0].toISOString(),
      expected[1].toISOString(),
    ]);
    expect(byTime.map((d) => d.rows)).toEqual([10, 0, 0]);

    // The same period again: the runs happen (Temporal allows re-running a completed id) and find their deliveries done.
    expect((await cli(['schedule', 'backfill', id, '--from', from.toISOString(), '--to', to.toISOString()])).code).toBe(
      0,
    );
    await waitFor(
      'the second backfill to run',
      async () => {
        const s = await cliJson<ScheduleView>(['schedule', 'show', id]);
        return (s.actionsTaken ?? 0) >= 6 && (s.running ?? []).length === 0 ? true : undefined;
      },
      60_000,
      1_000,
    );
    expect((await deliveriesOf(p)).map((d) => d.id).sort()).toEqual(done.map((d) => d.id).sort());
  });
});
