/**
 * An end user's S3 destination, read from the key:value properties of their profile.
 *
 * Everything here runs before any AWS call, so an operator learns about a typo from
 * `datashare profile set` rather than from an AccessDenied hours into a delivery.
 * Messages name the property, quote the value, state the rule and show a fix.
 */
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors';
import { validatePropertyName } from './ids';
import { quoteValue } from './quoting';
import { requireProperties } from './sql-params';

export type Partition = 'aws' | 'aws-us-gov' | 'aws-cn';

export const PARTITIONS: readonly Partition[] = ['aws', 'aws-us-gov', 'aws-cn'];

export const DESTINATION_KEYS = [
  's3_role_arn',
  's3_bucket',
  's3_region',
  's3_prefix',
  's3_external_id',
  's3_acl',
] as const;

export type DestinationKey = (typeof DESTINATION_KEYS)[number];

/** The only canned ACL worth sending: buckets with ACLs disabled (the default since 2023) reject all others. */
export type DestinationAcl = 'bucket-owner-full-control';

export interface S3Destination {
  roleArn: string;
  partition: Partition;
  accountId: string;
  bucket: string;
  region: string;
  /** Ends with '/', or is '' when the end user dedicates the whole bucket to us. */
  prefix: string;
  externalId: string;
  acl?: DestinationAcl;
}

export interface RoleArnParts {
  partition: Partition;
  accountId: string;
  /** IAM path form: '/' or '/a/b/'. */
  path: string;
  roleName: string;
}

function fail(label: string, value: string, rule: string): never {
  throw new ValidationError(`${label} ${quoteValue(value)}: ${rule}`);
}

function exampleRoleArn(partition: Partition = 'aws'): string {
  return `arn:${partition}:iam::111122223333:role/DataShareWriter`;
}

export function isPartition(s: string): s is Partition {
  return (PARTITIONS as readonly string[]).includes(s);
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** First character outside `allowed`, for messages that point at the culprit. */
function firstBadChar(value: string, allowed: RegExp): string | undefined {
  for (const ch of value) if (!allowed.test(ch)) return ch;
  return undefined;
}

function describeChar(ch: string): string {
  return JSON.stringify(ch);
}

function rejectSurroundingWhitespace(label: string, value: string): void {
  if (value !== value.trim()) fail(label, value, 'remove the leading/trailing whitespace');
}

// IAM's own character sets (CreateRole): role names and path segments.
const IAM_NAME_CHAR = /^[A-Za-z0-9_+=,.@-]$/;
const ACCOUNT_ID = /^\d{12}$/;

export function parseRoleArn(arn: string): RoleArnParts {
  return parseRoleArnAs('s3_role_arn', arn);
}

function parseRoleArnAs(label: string, arn: string): RoleArnParts {
  if (arn === '') throw new ValidationError(`${label} is empty: set it to the ARN of the end user's role, e.g. ${exampleRoleArn()}`);
  rejectSurroundingWhitespace(label, arn);
  const parts = arn.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) {
    fail(label, arn, `not an ARN; expected arn:aws:iam::<12-digit account id>:role/<name>, e.g. ${exampleRoleArn()}`);
  }
  const [, partitionRaw, service, region, accountId] = parts;
  const resource = parts.slice(5).join(':');

  if (!isPartition(partitionRaw)) {
    if (partitionRaw.startsWith('aws-iso')) {
      fail(label, arn, `partition ${partitionRaw} is not supported; use a role in aws, aws-us-gov or aws-cn`);
    }
    fail(label, arn, `the partition must be aws, aws-us-gov or aws-cn, e.g. ${exampleRoleArn()}`);
  }
  const partition: Partition = partitionRaw;

  if (service === 'sts' && resource.startsWith('assumed-role/')) {
    const roleName = resource.split('/')[1] ?? '<RoleName>';
    fail(
      label,
      arn,
      `this is a role session ARN (what "aws sts get-caller-identity" prints), not a role; use the role's own ARN, e.g. arn:${partition}:iam::${accountId}:role/${roleName} (include the role's path, if it has one)`,
    );
  }
  if (service !== 'iam') {
    fail(label, arn, `must be an IAM role ARN (service "iam", not ${JSON.stringify(service)}), e.g. ${exampleRoleArn(partition)}`);
  }
  if (region !== '') {
    fail(label, arn, `IAM ARNs have no region (the field between "iam:" and the account id must be empty), e.g. ${exampleRoleArn(partition)}`);
  }
  if (!ACCOUNT_ID.test(accountId)) {
    fail(label, arn, `the account id must be 12 digits, e.g. ${exampleRoleArn(partition)}`);
  }
  if (resource.startsWith('user/')) {
    fail(label, arn, `this is an IAM user, not a role; the end user must create a role that trusts the sharer and give its ARN, e.g. ${exampleRoleArn(partition)}`);
  }
  if (resource === 'root') {
    fail(label, arn, `this is the whole account, not a role; the end user must create a role that trusts the sharer and give its ARN, e.g. ${exampleRoleArn(partition)}`);
  }
  if (!resource.startsWith('role/')) {
    fail(label, arn, `must name a role (…:role/<name>), e.g. ${exampleRoleArn(partition)}`);
  }

  const segments = resource.slice('role/'.length).split('/');
  const roleName = segments[segments.length - 1];
  const pathSegments = segments.slice(0, -1);
  if (roleName === '') fail(label, arn, `the role name after the last "/" is missing, e.g. ${exampleRoleArn(partition)}`);
  if (roleName.length > 64) fail(label, arn, `the role name is ${roleName.length} characters; IAM allows at most 64`);
  const badNameChar = firstBadChar(roleName, IAM_NAME_CHAR);
  if (badNameChar !== undefined) {
    fail(label, arn, `the role name contains ${describeChar(badNameChar)}; IAM role names use only letters, digits and _+=,.@-`);
  }
  for (const seg of pathSegments) {
    if (seg === '') fail(label, arn, `the role path has an empty segment ("//"); copy the ARN from the role's IAM console page`);
    const badPathChar = firstBadChar(seg, IAM_NAME_CHAR);
    if (badPathChar !== undefined) {
      fail(label, arn, `the role path contains ${describeChar(badPathChar)}; path segments use only letters, digits and _+=,.@-`);
    }
  }
  const path = pathSegments.length === 0 ? '/' : `/${pathSegments.join('/')}/`;
  if (path.length > 512) fail(label, arn, `the role path is ${path.length} characters; IAM allows at most 512`);
  return { partition, accountId, path, roleName };
}

// Suffixes and prefixes S3 reserves for access points, directory/table buckets and docs.
const RESERVED_BUCKET_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_BUCKET_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

export function validateBucketName(name: string): void {
  const label = 's3_bucket';
  if (name === '') throw new ValidationError(`${label} is empty: set it to the bucket's name, e.g. their-company-data`);
  rejectSurroundingWhitespace(label, name);
  if (name.startsWith('s3://') || name.startsWith('arn:')) {
    fail(label, name, 'give the bare bucket name (e.g. their-company-data), and put any folder path in s3_prefix');
  }
  if (name.includes('/')) fail(label, name, 'a bucket name has no "/"; put the folder path in s3_prefix instead');
  if (name.length < 3 || name.length > 63) fail(label, name, `bucket names are 3–63 characters; this one is ${name.length}`);
  if (/[A-Z]/.test(name)) fail(label, name, `bucket names are lowercase, e.g. ${quoteValue(name.toLowerCase())}`);
  const bad = firstBadChar(name, /^[a-z0-9.-]$/);
  if (bad !== undefined) {
    fail(label, name, `contains ${describeChar(bad)}; bucket names use only lowercase letters, digits, "." and "-"`);
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    fail(label, name, 'bucket names begin and end with a letter or digit');
  }
  if (name.includes('..')) fail(label, name, 'bucket names cannot contain ".."');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) fail(label, name, 'bucket names cannot look like an IP address');
  for (const p of RESERVED_BUCKET_PREFIXES) {
    if (name.startsWith(p)) fail(label, name, `the prefix "${p}" is reserved by S3; check the bucket name`);
  }
  for (const s of RESERVED_BUCKET_SUFFIXES) {
    if (name.endsWith(s)) {
      fail(label, name, `the suffix "${s}" marks an access point alias or a directory/table bucket, which we cannot write to; give a general purpose bucket's name`);
    }
  }
}

// Shape, not a list: new regions launch every year and must not need a release.
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;

export function partitionOfRegion(region: string): Partition {
  return partitionOfRegionAs('s3_region', region);
}

function partitionOfRegionAs(label: string, region: string): Partition {
  if (region === '') throw new ValidationError(`${label} is empty: set it to the bucket's region, e.g. us-east-1`);
  rejectSurroundingWhitespace(label, region);
  if (region !== region.toLowerCase() && REGION.test(region.toLowerCase())) {
    fail(label, region, `region names are lowercase, e.g. ${quoteValue(region.toLowerCase())}`);
  }
  const m = REGION.exec(region);
  if (m === null) {
    if (REGION.test(region.slice(0, -1)) && /[a-z]$/.test(region)) {
      fail(label, region, `this is an availability zone; give its region, e.g. ${quoteValue(region.slice(0, -1))}`);
    }
    if (/^[a-z]{2}(-gov)?-[a-z]+$/.test(region)) {
      fail(label, region, `region names end with a number, e.g. ${quoteValue(`${region}-1`)}`);
    }
    fail(label, region, 'not a region name; expected e.g. us-east-1, eu-central-1, us-gov-west-1 or cn-north-1');
  }
  if (m[1] !== undefined && m[1].startsWith('-iso')) {
    fail(label, region, 'isolated (ISO) regions are not supported; use a region in aws, aws-us-gov or aws-cn');
  }
  if (m[1] === '-gov') return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

const MAX_PREFIX_BYTES = 512;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0, DEL and C1 controls: invisible in consoles, and S3 tooling mangles them. */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/**
 * Returns the prefix ending with '/', or '' for the bucket root.
 *
 * Rejects rather than repairs: the prefix must match the end user's IAM policy
 * resource exactly, so silently dropping a leading '/' or collapsing '//' could
 * aim us at keys their policy does not cover.
 */
export function normalizePrefix(prefix: string): string {
  const label = 's3_prefix';
  if (prefix === '') return '';
  if (prefix === '/') fail(label, prefix, 'to write at the bucket root, leave s3_prefix empty or unset');
  rejectSurroundingWhitespace(label, prefix);
  if (prefix.startsWith('s3://')) fail(label, prefix, 'give only the path inside the bucket, e.g. uploads/your-team/, and the bucket name in s3_bucket');
  if (hasControlChar(prefix)) fail(label, prefix, 'contains a control character; use printable characters only');
  if (LONE_SURROGATE.test(prefix)) fail(label, prefix, 'contains an invalid Unicode character');
  if (prefix.startsWith('/')) fail(label, prefix, `remove the leading "/": S3 keys do not start with one, e.g. ${quoteValue(prefix.replace(/^\/+/, ''))}`);
  if (prefix.includes('\\')) fail(label, prefix, 'contains "\\"; S3 folders are separated by "/"');
  // These would become wildcards or policy variables in the generated IAM resource ARN.
  if (/[*?]/.test(prefix) || prefix.includes('${')) {
    fail(label, prefix, 'cannot contain "*", "?" or "${": they are wildcards or variables in IAM policies, so the policy would cover more than this prefix');
  }
  const normalized = prefix.endsWith('/') ? prefix : `${prefix}/`;
  for (const seg of normalized.slice(0, -1).split('/')) {
    if (seg === '') fail(label, prefix, 'has an empty folder name ("//"); use single "/" between folders, e.g. uploads/your-team/');
    if (seg === '.' || seg === '..') fail(label, prefix, `cannot contain a "${seg}" folder; give the literal path, e.g. uploads/your-team/`);
  }
  const bytes = Buffer.byteLength(normalized, 'utf8');
  if (bytes > MAX_PREFIX_BYTES) {
    fail(label, prefix, `is ${bytes} bytes; at most ${MAX_PREFIX_BYTES} are allowed so that our file names still fit S3's 1024-byte key limit`);
  }
  return normalized;
}

const EXTERNAL_ID_CHAR = /^[A-Za-z0-9_+=,.@:/-]$/;

export function validateExternalId(id: string): void {
  const label = 's3_external_id';
  if (id.length < 2 || id.length > 1224) {
    fail(label, id, `an ExternalId is 2–1224 characters (this one is ${id.length}); generate one with e.g. "ds-" + 32 hex digits`);
  }
  const bad = firstBadChar(id, EXTERNAL_ID_CHAR);
  if (bad !== undefined) {
    fail(label, id, `contains ${describeChar(bad)}; an ExternalId uses only letters, digits and _+=,.@:/-`);
  }
}

/** 128 random bits: unguessable, so another customer of the sharer cannot reuse it (confused deputy). */
export function generateExternalId(): string {
  return `ds-${randomBytes(16).toString('hex')}`;
}

const REQUIRED_KEYS: readonly DestinationKey[] = ['s3_role_arn', 's3_bucket', 's3_region', 's3_external_id'];

const MISSING_HINT: Record<DestinationKey, string> = {
  s3_role_arn: `the ARN of the end user's role, e.g. ${exampleRoleArn()}`,
  s3_bucket: "the end user's bucket name, e.g. their-company-data",
  s3_region: "the bucket's region, e.g. us-east-1",
  s3_prefix: 'the folder we may write to, e.g. uploads/your-team/',
  s3_external_id: "a unique ExternalId that the role's trust policy requires (sts:ExternalId), e.g. ds- followed by 32 hex digits",
  s3_acl: 'bucket-owner-full-control, only if the bucket requires it',
};

function isDestinationKey(key: string): key is DestinationKey {
  return (DESTINATION_KEYS as readonly string[]).includes(key);
}

/**
 * Validate a complete property map; returns the destination. Checks ARN/region
 * partition agreement, s3_acl only 'bucket-owner-full-control'.
 */
export function destinationFromProperties(props: Readonly<Record<string, string>>): S3Destination {
  for (const key of Object.keys(props)) {
    validatePropertyName(key);
    // The map may come straight from JSON; the type alone does not make values strings.
    const value: unknown = props[key];
    if (typeof value !== 'string') {
      throw new ValidationError(`property ${key} must be a string, not ${value === null ? 'null' : typeof value}`);
    }
    // Properties are bound as Postgres text parameters, and text cannot hold NUL.
    if (value.includes('\u0000')) fail(key, value, 'contains a NUL character; remove it');
    if (key.startsWith('s3_') && !isDestinationKey(key)) {
      throw new ValidationError(
        `property ${key} is not a destination property (a typo?); the s3_ properties are ${DESTINATION_KEYS.join(', ')}`,
      );
    }
  }

  const get = (key: DestinationKey): string | undefined => (hasOwn(props, key) ? props[key] : undefined);

  const missing = REQUIRED_KEYS.filter((k) => get(k) === undefined);
  if (missing.length > 0) {
    throw new ValidationError(
      `the profile lacks ${missing.length === 1 ? 'property' : 'properties'} ${missing.join(', ')}; set ${missing
        .map((k) => `${k} to ${MISSING_HINT[k]}`)
        .join('; ')}`,
    );
  }

  const roleArn = get('s3_role_arn') ?? '';
  const arn = parseRoleArn(roleArn);
  const bucket = get('s3_bucket') ?? '';
  validateBucketName(bucket);
  const region = get('s3_region') ?? '';
  const regionPartition = partitionOfRegion(region);
  if (regionPartition !== arn.partition) {
    throw new ValidationError(
      `s3_region ${quoteValue(region)} is in partition ${regionPartition} but s3_role_arn ${quoteValue(roleArn)} is in partition ${arn.partition}; ` +
        `partitions are separate: a role can only write to buckets in its own partition, so fix whichever is wrong (arn:${regionPartition}:iam::… for ${region})`,
    );
  }
  const prefix = normalizePrefix(get('s3_prefix') ?? '');
  const externalId = get('s3_external_id') ?? '';
  validateExternalId(externalId);

  const dest: S3Destination = {
    roleArn,
    partition: arn.partition,
    accountId: arn.accountId,
    bucket,
    region,
    prefix,
    externalId,
  };
  const acl = get('s3_acl');
  if (acl !== undefined && acl !== '') {
    if (acl !== 'bucket-owner-full-control') {
      fail(
        's3_acl',
        acl,
        'only bucket-owner-full-control is supported (buckets with ACLs disabled reject every other ACL); leave s3_acl unset unless the bucket policy demands that ACL',
      );
    }
    dest.acl = acl;
  }
  return dest;
}

/**
 * Everything that can be checked before any work: a valid destination, and every
 * property the dataset's SQL names. Returns the destination.
 */
export function deliverableDestination(profile: { id: string; properties: Readonly<Record<string, string>> }, datasetSql: string): S3Destination {
  const destination = destinationFromProperties(profile.properties);
  requireProperties(datasetSql, profile.properties, profile.id);
  return destination;
}
