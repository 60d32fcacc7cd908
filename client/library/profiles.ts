import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { destinationFromProperties, type S3Destination } from '../../common/domain/destination';
import { generateExternalId, normalizePrefix } from '../../common/domain/aws-names';
import { validateProfileId, validatePropertyName } from '../../common/domain/ids';
import { buildPolicies, sharerRootArn, type EndUserPolicies } from '../../common/domain/policy';
import { ValidationError } from '../../common/errors';
import * as store from '../../common/store/profiles';
import { instanceOfProfile } from '../../common/domain/instances';
import { listInstances } from '../../common/store/instances';
import type { LibraryDeps } from './library-deps';
import { verifyDestination, type VerifyReport } from './verify-destination';

const MAX_PROPERTY_VALUE = 4096;

/** End users' profiles: their properties, and the S3 destination and AWS policies that follow from them. */
export class Profiles {
  constructor(private readonly deps: Pick<LibraryDeps, 'metaPool' | 'aws'>) {}

  /**
   * Upserts properties (other keys are kept). A profile without s3_external_id
   * gets a fresh unique one, so every end user's trust policy can require it.
   */
  async set(id: string, updates: Record<string, string>, opts: { unset?: string[] } = {}): Promise<store.ProfileRow> {
    validateProfileId(id);
    for (const [k, v] of Object.entries(updates)) {
      validatePropertyName(k);
      if (v.length > MAX_PROPERTY_VALUE)
        throw new ValidationError(`property "${k}" is longer than ${MAX_PROPERTY_VALUE} characters`);
      if (v.includes('\u0000'))
        throw new ValidationError(`property "${k}" contains a NUL character, which Postgres cannot store`);
    }
    const existing = await store.findProfile(this.deps.metaPool, id);
    const merged: Record<string, string> = { ...(existing?.properties ?? {}), ...updates };
    for (const k of opts.unset ?? []) delete merged[k];
    if (merged.s3_external_id === undefined) merged.s3_external_id = generateExternalId();
    if (merged.s3_prefix !== undefined) merged.s3_prefix = normalizePrefix(merged.s3_prefix);
    const destination = destinationFromProperties(merged);
    // A typo in s3_instance is caught now, not at the next delivery.
    if (updates.s3_instance) instanceOfProfile(id, destination, await listInstances(this.deps.metaPool));
    return store.saveProfile(this.deps.metaPool, id, merged);
  }

  get(id: string): Promise<store.ProfileRow> {
    return store.getProfile(this.deps.metaPool, id);
  }

  list(): Promise<store.ProfileRow[]> {
    return store.listProfiles(this.deps.metaPool);
  }

  async delete(id: string): Promise<void> {
    if (!(await store.deleteProfile(this.deps.metaPool, id))) await store.getProfile(this.deps.metaPool, id);
  }

  async destination(id: string): Promise<S3Destination> {
    return destinationFromProperties((await store.getProfile(this.deps.metaPool, id)).properties);
  }

  /**
   * The sharer principal end users must trust. DATASHARE_SHARER_PRINCIPAL_ARN names
   * it exactly; otherwise the whole sharer account (its root ARN), as in the setup guide.
   * When the profile belongs to an instance, that instance's principal.
   */
  async sharerPrincipal(d: S3Destination, profileId = '(unsaved)'): Promise<string> {
    // An instance's principal wins: the profile is delivered by that instance's workers.
    const instance = instanceOfProfile(profileId, d, await listInstances(this.deps.metaPool));
    if (instance) return instance.principalArn;
    const explicit = process.env.DATASHARE_SHARER_PRINCIPAL_ARN;
    if (explicit) return explicit;
    const sts = this.deps.aws.sts(d.region);
    try {
      const me = await sts.send(new GetCallerIdentityCommand({}));
      if (!me.Account) throw new Error('STS GetCallerIdentity returned no account');
      return sharerRootArn(d.partition, me.Account);
    } finally {
      sts.destroy();
    }
  }

  async policies(id: string): Promise<EndUserPolicies & { sharerPrincipal: string; destination: S3Destination }> {
    const d = await this.destination(id);
    const sharerPrincipal = await this.sharerPrincipal(d, id);
    return { sharerPrincipal, ...buildPolicies(d, sharerPrincipal), destination: d };
  }

  async verify(id: string): Promise<VerifyReport> {
    return verifyDestination(this.deps.aws, id, await this.destination(id));
  }
}
