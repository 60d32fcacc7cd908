import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datashare } from '../../client/datashare';
import { connectTemporal } from '../../client/library/temporal-connection';
import { workflowIdFor } from '../../common/contracts/delivery';
import { loadConfig } from '../../common/infra/config';
import { newDeliveryId } from '../../common/domain/ids';
import { insertDelivery } from '../../common/store/deliveries';
import { deliveryWorkflow } from '../../workflows';
import { runCli } from '../support/cli';
import { workflowBundle } from '../support/harness';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  iamAs,
  uniqueName,
} from '../../scripts/local/end-user-account';
import { useTestEnv } from '../../scripts/local/stack-env';

/**
 * Two instances in the local stack: two sharer identities (the stack's sharer
 * user and a second IAM user made here), two task queues, two `datashare worker
 * --instance` processes. Each profile's deliveries must run on its own instance's
 * worker, under its principal.
 */
describe('instances: one sharer identity and task queue per instance, a worker per instance', () => {
  let env: Record<string, string>;
  let ds: Datashare;
  let temporal: Client;
  const workers: WorkerProcess[] = [];
  const a = { name: uniqueName('inst-a'), queue: uniqueName('queue-a'), principal: '' };
  const b = { name: uniqueName('inst-b'), queue: uniqueName('queue-b'), principal: '' };
  let bCreds: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  const bucket = uniqueName('inst-bucket');
  const p1 = uniqueName('inst-p1');
  const p2 = uniqueName('inst-p2');
  const dataset = uniqueName('inst-ds');
  let workerA: WorkerProcess;
  let workerB: WorkerProcess;

  beforeAll(async () => {
    env = useTestEnv();
    ds = new Datashare();
    temporal = new Client({ connection: await connectTemporal(loadConfig().temporal, 10_000) });

    // A second sharer identity: an IAM user that may only assume roles, like the stack's sharer.
    const iam = await iamAs('sharer');
    const userName = uniqueName('sharer-two');
    const user = await iam.send(new CreateUserCommand({ UserName: userName }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'assume-only',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
        }),
      }),
    );
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
    bCreds = { AWS_ACCESS_KEY_ID: key.AccessKeyId!, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey! };
    a.principal = env.DATASHARE_SHARER_ARN;
    b.principal = user.User!.Arn!;

    for (const i of [a, b]) {
      const r = await runCli(
        [
          'instance',
          'set',
          i.name,
          '--partition',
          'aws',
          '--region',
          'us-east-1',
          '--principal',
          i.principal,
          '--task-queue',
          i.queue,
          '--json',
        ],
        { ...process.env },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ name: i.name, principalArn: i.principal, taskQueue: i.queue });
    }

    await createBucket('other', bucket);
    for (const [id, instance] of [
      [p1, a.name],
      [p2, b.name],
    ] as const) {
      const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: `${id}/` });
      await ds.setProfile(id, { ...endUserProfile(role, bucket, `${id}/`), s3_instance: instance });
    }
    await ds.setDataset(dataset, {
      sql: 'SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200) g',
      keyColumns: ['id'],
      compression: 'none',
      sameForEveryone: true,
    });

    const workerEnv = { ...process.env, DATASHARE_LOG_LEVEL: 'WARN' };
    workerA = await startWorkerProcess(['--instance', a.name], workerEnv);
    workerB = await startWorkerProcess([], { ...workerEnv, ...bCreds, DATASHARE_INSTANCE: b.name });
    workers.push(workerA, workerB);
  });

  afterAll(async () => {
    for (const w of workers) await w.stop();
    if (ds) {
      for (const p of [p1, p2]) await ds.deleteProfile(p).catch(() => undefined);
      for (const i of [a, b]) await ds.instances.delete(i.name).catch(() => undefined);
      await ds.close();
    }
    await temporal?.connection.close();
  });

  /** The task queue a delivery's workflow ran on and the identities (pid@host) of the workers that ran its activities. */
  async function whereItRan(workflowId: string): Promise<{ taskQueue: string; workers: Set<string> }> {
    const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const started = events[0].workflowExecutionStartedEventAttributes;
    const identities = new Set(
      events.flatMap((e) =>
        e.activityTaskStartedEventAttributes?.identity ? [e.activityTaskStartedEventAttributes.identity] : [],
      ),
    );
    return { taskQueue: started?.taskQueue?.name ?? '', workers: identities };
  }

  async function deliver(profile: string): Promise<{ id: string; taskQueue: string; workers: Set<string> }> {
    const started = Date.now();
    const d = await ds.share(profile, dataset);
    const done = await ds.waitForDelivery(d.id, undefined, 200);
    expect(done.error).toBeUndefined();
    expect(done.status).toBe('completed');
    expect(done.rows).toBe(200);
    console.log(`instances: ${profile} delivered in ${Date.now() - started} ms`);
    return { id: d.id, ...(await whereItRan(done.workflowId)) };
  }

  it('the workers check their identity: each polls its queue as its own principal', () => {
    // What a worker said, whether its log lines are JSON (not a terminal) or plain text.
    const said = (w: WorkerProcess): string =>
      w
        .stderr()
        .split('\n')
        .map((line) => {
          try {
            return (JSON.parse(line) as { msg?: string }).msg ?? line;
          } catch {
            return line;
          }
        })
        .join('\n');
    expect(said(workerA)).toContain(`instance "${a.name}" (${a.principal}), task queue "${a.queue}"`);
    expect(said(workerB)).toContain(`instance "${b.name}" (${b.principal}), task queue "${b.queue}"`);
  });

  it("doctor checks a worker polls each instance's queue", async () => {
    const r = await runCli(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; detail: string }[] };
    for (const i of [a, b]) {
      const check = report.checks.find((c) => c.name === `worker (instance ${i.name})`);
      expect(check, r.stdout).toMatchObject({ ok: true });
      expect(check?.detail).toContain(`polling task queue "${i.queue}" as ${i.principal}`);
    }
  });

  it("runs each profile's deliveries on its own instance's worker", async () => {
    const one = await deliver(p1);
    expect(one.taskQueue).toBe(a.queue);
    expect([...one.workers]).toEqual([expect.stringMatching(new RegExp(`^${workerA.pid}@`))]);
    const two = await deliver(p2);
    expect(two.taskQueue).toBe(b.queue);
    expect([...two.workers]).toEqual([expect.stringMatching(new RegExp(`^${workerB.pid}@`))]);
  });

  it("profile policy names the profile's instance's principal, over DATASHARE_SHARER_PRINCIPAL_ARN", async () => {
    const cliEnv = { ...process.env, DATASHARE_SHARER_PRINCIPAL_ARN: 'arn:aws:iam::999999999999:root' };
    for (const [p, principal] of [
      [p1, a.principal],
      [p2, b.principal],
    ] as const) {
      const r = await runCli(['profile', 'policy', p, '--json'], cliEnv);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { sharerPrincipal: string; trustPolicy: unknown };
      expect(out.sharerPrincipal).toBe(principal);
      expect(JSON.stringify(out.trustPolicy)).toContain(principal);
    }
  });

  it('delivers a profile moved to another instance there the next time', async () => {
    await ds.setProfile(p1, { s3_instance: b.name });
    const moved = await deliver(p1);
    expect(moved.taskQueue).toBe(b.queue);
    expect([...moved.workers]).toEqual([expect.stringMatching(new RegExp(`^${workerB.pid}@`))]);
    const policy = await ds.policies(p1);
    expect(policy.sharerPrincipal).toBe(b.principal);
    await ds.setProfile(p1, { s3_instance: a.name });
  });

  it("a worker refuses, as permanent WrongInstance, a delivery of another instance's profile", async () => {
    const deliveryId = newDeliveryId();
    const workflowId = workflowIdFor(deliveryId);
    await insertDelivery(ds.metaPool, {
      id: deliveryId,
      workflowId,
      profileId: p2,
      datasetId: dataset,
      format: 'csv',
      compression: 'none',
    });
    // Sent to instance A's queue by hand, as a stale client or a moved profile's old schedule would.
    const started = Date.now();
    const handle = await temporal.workflow.start(deliveryWorkflow, {
      taskQueue: a.queue,
      workflowId,
      args: [{ deliveryId, profileId: p2, datasetId: dataset, format: 'csv', compression: 'none' }],
    });
    await expect(handle.result()).rejects.toThrow();
    const view = await ds.waitForDelivery(deliveryId, undefined, 200);
    expect(view.status).toBe('failed');
    expect(view.error?.type).toBe('WrongInstance');
    expect(view.error?.message).toContain(`belongs to instance "${b.name}"`);
    // Permanent: failed at once, not retried for minutes.
    expect(Date.now() - started).toBeLessThan(15_000);
    const { events } = await handle.fetchHistory();
    const attempts = (events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
    expect(Math.max(...attempts)).toBe(1);

    // Replayed, it goes to its own instance's queue and completes there.
    await ds.replay(deliveryId);
    const replayed = await ds.waitForDelivery(deliveryId, undefined, 200);
    expect(replayed.status).toBe('completed');
    const ran = await whereItRan(workflowId);
    expect(ran.taskQueue).toBe(b.queue);
    expect([...ran.workers]).toEqual([expect.stringMatching(new RegExp(`^${workerB.pid}@`))]);
  });

  it("a profile's schedule runs on its instance; after a move its next delivery runs on the new instance", async () => {
    const view = await ds.schedules.create({
      datasetId: dataset,
      target: { kind: 'profile', profileId: p1 },
      everyMs: 3_600_000,
      paused: true,
    });
    try {
      expect((await ds.schedules.list()).map((s) => s.id)).toContain(view.id);
      const runOnce = async (): Promise<{
        taskQueue: string;
        workers: Set<string>;
        round: string;
        roundId: string;
      }> => {
        const before = new Set((await ds.listDeliveries({ profileId: p1 })).map((d) => d.id));
        // A run's ids come from its nominal time, to the second: two triggers in one second are one run.
        await new Promise((r) => setTimeout(r, 1100));
        // allow-all: the previous round may still be closing when its delivery has completed.
        await ds.schedules.trigger(view.id, 'allow-all');
        let fresh;
        for (let i = 0; i < 300 && !fresh; i++) {
          fresh = (await ds.listDeliveries({ profileId: p1 })).find((d) => !before.has(d.id) && d.status !== 'running');
          if (!fresh) await new Promise((r) => setTimeout(r, 200));
        }
        if (!fresh) {
          const d = await temporal.schedule.getHandle(view.id).describe();
          throw new Error(
            `the triggered delivery did not finish: deliveries ${JSON.stringify((await ds.listDeliveries({ profileId: p1 })).map((x) => [x.id, x.status, x.error]))}; recent ${JSON.stringify(d.info.recentActions.map((x) => x.action.workflow.workflowId))} running ${JSON.stringify(d.info.runningActions)}`,
          );
        }
        expect(fresh.status).toBe('completed');
        const desc = await temporal.schedule.getHandle(view.id).describe();
        const round = desc.info.recentActions.at(-1)!.action.workflow.workflowId;
        return { ...(await whereItRan(fresh.workflowId)), round: (await whereItRan(round)).taskQueue, roundId: round };
      };
      const first = await runOnce();
      expect(first).toMatchObject({ taskQueue: a.queue, round: a.queue });
      expect([...first.workers]).toEqual([expect.stringMatching(new RegExp(`^${workerA.pid}@`))]);
      // Moved: the schedule's round still runs where it was made, its delivery on the new instance.
      await ds.setProfile(p1, { s3_instance: b.name });
      const second = await runOnce();
      expect(second).toMatchObject({ taskQueue: b.queue, round: a.queue });
      expect([...second.workers]).toEqual([expect.stringMatching(new RegExp(`^${workerB.pid}@`))]);

      // The round that sent its child to another queue replays (patched('child-on-instance-queue')), and is
      // kept in test/histories with RECORD_HISTORIES=1 so that determinism.test.ts guards the branch.
      const round = temporal.workflow.getHandle(second.roundId);
      await round.result();
      const history = await round.fetchHistory();
      if (process.env.RECORD_HISTORIES === '1')
        writeFileSync(
          join(__dirname, '..', 'histories', 'scheduled-delivery-child-on-instance-queue.json'),
          historyToJSON(history),
        );
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, second.roundId);
    } finally {
      await ds.setProfile(p1, { s3_instance: a.name });
      await ds.schedules.delete(view.id);
    }
  });

  it('a worker started with another identity than its instance principal refuses to start', async () => {
    const r = await runCli(['worker', '--instance', a.name], { ...process.env, ...bCreds }, 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`is not instance "${a.name}"'s principal ${a.principal}`);
  });

  it('a profile that several instances of its partition could serve must name one', async () => {
    const loose = uniqueName('inst-loose');
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: `${loose}/` });
    await ds.setProfile(loose, endUserProfile(role, bucket, `${loose}/`));
    await expect(ds.share(loose, dataset)).rejects.toThrow(
      /choose one with datashare profile set .* s3_instance=<name>/,
    );
    // A name that is no instance is refused when it is set.
    await expect(ds.setProfile(loose, { s3_instance: 'no-such-instance' })).rejects.toThrow(
      /there is no such instance/,
    );
    await ds.deleteProfile(loose);
  });

  it('instance list|show|delete with --json; delete is refused while a profile names the instance', async () => {
    const list = await runCli(['instance', 'list', '--json']);
    const names = (JSON.parse(list.stdout) as { name: string }[]).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining([a.name, b.name]));
    const show = await runCli(['instance', 'show', b.name, '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ name: b.name, partition: 'aws', region: 'us-east-1' });
    const refused = await runCli(['instance', 'delete', a.name]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(p1);
    const gov = uniqueName('gov');
    const bad = await runCli([
      'instance',
      'set',
      gov,
      '--partition',
      'aws-us-gov',
      '--region',
      'us-east-1',
      '--principal',
      'arn:aws-us-gov:iam::184115685153:root',
      '--task-queue',
      gov,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/us-gov- region/);
  });
});
