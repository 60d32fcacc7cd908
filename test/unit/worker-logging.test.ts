import { describe, expect, it } from 'vitest';
import { WorkerLogger, deliveryFields, logFormat } from '../../worker/logging';

describe('worker logging', () => {
  it('json on a pipe, pretty on a terminal, unless DATASHARE_LOG_FORMAT says', () => {
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({ DATASHARE_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ DATASHARE_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  });

  it("names the delivery from a delivery's or its webhook's workflow id", () => {
    expect(
      deliveryFields({ workflowId: 'datashare-delivery-20261201T000000Z-ab12', activityType: 'uploadFile' }),
    ).toMatchObject({
      deliveryId: '20261201T000000Z-ab12',
      activity: 'uploadFile',
    });
    expect(deliveryFields({ workflowId: 'datashare-delivery-d1/webhook/completed/run' }).deliveryId).toBe('d1');
    expect(deliveryFields({ workflowId: 'other' }).deliveryId).toBeUndefined();
  });

  it('writes one JSON line per entry, errors with their message', () => {
    const out: string[] = [];
    const logger = new WorkerLogger('INFO', 'json', { write: (s: string) => void out.push(s) });
    logger.debug('hidden');
    logger.warn('lost', { error: new Error('boom'), workflowId: 'datashare-delivery-x', attempt: 2 });
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', msg: 'lost', deliveryId: 'x', attempt: 2 });
    expect((line.err as { message: string }).message).toBe('boom');
  });

  it('writes one human line in pretty mode, naming the delivery first', () => {
    const out: string[] = [];
    const logger = new WorkerLogger('INFO', 'pretty', { write: (s: string) => void out.push(s) });
    logger.info('file uploaded', {
      workflowId: 'datashare-delivery-d7',
      activityType: 'uploadFile',
      attempt: 1,
      rows: 10,
      taskQueue: 'q',
    });
    expect(out[0]).toMatch(
      /^\S+Z INFO {2}file uploaded deliveryId=d7 activity=uploadFile attempt=1 workflowId=datashare-delivery-d7 rows=10\n$/,
    );
  });
});
