import type { Pool } from 'pg';
import type { AwsAccess } from '../../common/infra/aws';
import type { Config } from '../../common/infra/config';
import type { TemporalConnection } from './temporal-connection';

/** What the parts of the library share; `Datashare` builds it once. */
export interface LibraryDeps {
  config: Config;
  aws: AwsAccess;
  /** Our own tables (DATABASE_URL). */
  metaPool: Pool;
  /** The database datasets read (SOURCE_DATABASE_URL; the same pool when the URLs are equal). */
  sourcePool: Pool;
  temporal: TemporalConnection;
}
