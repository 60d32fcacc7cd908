import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/infra/config';
import { ServiceUnreachableError, explainUnreachable } from '../../common/infra/service-errors';

const env = {
  DATABASE_URL: 'postgres://u:secret@db.internal:5433/datashare',
  SOURCE_DATABASE_URL: 'postgres://u@replica.internal:5432/app',
  TEMPORAL_ADDRESS: 'temporal.internal:7233',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9000',
};
const config = loadConfig(env);

function netError(code: string, address: string, port: number): Error {
  return Object.assign(new Error(`connect ${code} ${address}:${port}`), { code, address, port });
}

describe('explainUnreachable', () => {
  it('names the service by the address in the error, with its variable and the fix', () => {
    const e = explainUnreachable(netError('ECONNREFUSED', 'db.internal', 5433), config, undefined, env);
    expect(e).toBeInstanceOf(ServiceUnreachableError);
    expect(e?.message).toBe(
      'cannot reach the metadata database at db.internal:5433 (ECONNREFUSED); it is set by DATABASE_URL: start that service, or point DATABASE_URL at it (for the local stack run: npm run stack:start)',
    );
    expect(e?.message).not.toContain('secret');
    expect(explainUnreachable(netError('ENOTFOUND', 'replica.internal', 5432), config, undefined, env)?.service).toBe(
      'source database',
    );
  });

  it('looks through the causes of fetch and dual-stack errors', () => {
    const inner = netError('ECONNREFUSED', '127.0.0.1', 9000);
    const wrapped = new TypeError('fetch failed', { cause: new AggregateError([inner], 'all failed') });
    expect(explainUnreachable(wrapped, config, 'S3', env)?.message).toContain('cannot reach S3 at 127.0.0.1:9000');
  });

  it('lets the hint choose between services that share one address', () => {
    expect(explainUnreachable(netError('ECONNREFUSED', '127.0.0.1', 9000), config, 'STS', env)?.service).toBe('STS');
  });

  it('recognises a Temporal connect deadline, which carries no address', () => {
    const e = explainUnreachable(new Error('Failed to connect before the deadline'), config, 'Temporal', env);
    expect(e?.message).toContain('the Temporal server at temporal.internal:7233');
    expect(e?.variable).toBe('TEMPORAL_ADDRESS');
  });

  it('leaves other errors alone', () => {
    expect(
      explainUnreachable(new Error('relation "x" does not exist'), config, 'source database', env),
    ).toBeUndefined();
    expect(explainUnreachable(netError('ECONNREFUSED', '10.9.9.9', 1234), config, undefined, env)).toBeUndefined();
  });
});
