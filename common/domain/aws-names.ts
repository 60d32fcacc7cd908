/**
 * AWS's own names and their rules: partitions, regions, role ARNs, bucket names,
 * key prefixes and ExternalIds. Each check names the property, quotes the value,
 * states the rule and shows a fix, so a typo surfaces at `profile set`.
 */
import { randomBytes } from 'node:crypto';
import { ValidationError } from '../errors';
import { quoteValue } from './quoting';

export type Partition = 'aws' | 'aws-us-gov' | 'aws-cn';

export const PARTITIONS: readonly Partition[] = ['aws', 'aws-us-gov', 'aws-cn'];

export interface RoleArnParts {
  partition: Partition;
  accountId: string;
  /** IAM path form: '/' or '/a/b/'. */
  path: string;
  roleName: string;
}

export function fail(label: string, value: string, rule: string): never {
  throw new ValidationError(`${label} ${quoteValue(value)}: ${rule}`);
}

export function exampleRoleArn(partition: Partition = 'aws'): string {
  return `arn:${partition}:iam::111122223333:role/DataShareWriter`;
}

export function isPartition(s: string): s is Partition {
  return (PARTITIONS as readonly string[]).includes(s);
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
  if (arn === '')
    throw new ValidationError(`${label} is empty: set it to the ARN of the end user's role, e.g. ${exampleRoleArn()}`);
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
    fail(
      label,
      arn,
      `must be an IAM role ARN (service "iam", not ${JSON.stringify(service)}), e.g. ${exampleRoleArn(partition)}`,
    );
  }
  if (region !== '') {
    fail(
      label,
      arn,
      `IAM ARNs have no region (the field between "iam:" and the account id must be empty), e.g. ${exampleRoleArn(partition)}`,
    );
  }
  if (!ACCOUNT_ID.test(accountId)) {
    fail(label, arn, `the account id must be 12 digits, e.g. ${exampleRoleArn(partition)}`);
  }
  if (resource.startsWith('user/')) {
    fail(
      label,
      arn,
      `this is an IAM user, not a role; the end user must create a role that trusts the sharer and give its ARN, e.g. ${exampleRoleArn(partition)}`,
    );
  }
  if (resource === 'root') {
    fail(
      label,
      arn,
      `this is the whole account, not a role; the end user must create a role that trusts the sharer and give its ARN, e.g. ${exampleRoleArn(partition)}`,
    );
  }
  if (!resource.startsWith('role/')) {
    fail(label, arn, `must name a role (…:role/<name>), e.g. ${exampleRoleArn(partition)}`);
  }

  const segments = resource.slice('role/'.length).split('/');
  const roleName = segments[segments.length - 1];
  const pathSegments = segments.slice(0, -1);
  if (roleName === '')
    fail(label, arn, `the role name after the last "/" is missing, e.g. ${exampleRoleArn(partition)}`);
  if (roleName.length > 64) fail(label, arn, `the role name is ${roleName.length} characters; IAM allows at most 64`);
  const badNameChar = firstBadChar(roleName, IAM_NAME_CHAR);
  if (badNameChar !== undefined) {
    fail(
      label,
      arn,
      `the role name contains ${describeChar(badNameChar)}; IAM role names use only letters, digits and _+=,.@-`,
    );
  }
  for (const seg of pathSegments) {
    if (seg === '')
      fail(label, arn, `the role path has an empty segment ("//"); copy the ARN from the role's IAM console page`);
    const badPathChar = firstBadChar(seg, IAM_NAME_CHAR);
    if (badPathChar !== undefined) {
      fail(
        label,
        arn,
        `the role path contains ${describeChar(badPathChar)}; path segments use only letters, digits and _+=,.@-`,
      );
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
  if (name.length < 3 || name.length > 63)
    fail(label, name, `bucket names are 3–63 characters; this one is ${name.length}`);
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
      fail(
        label,
        name,
        `the suffix "${s}" marks an access point alias or a directory/table bucket, which we cannot write to; give a general purpose bucket's name`,
      );
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
  if (prefix.startsWith('s3://'))
    fail(
      label,
      prefix,
      'give only the path inside the bucket, e.g. uploads/your-team/, and the bucket name in s3_bucket',
    );
  if (hasControlChar(prefix)) fail(label, prefix, 'contains a control character; use printable characters only');
  if (LONE_SURROGATE.test(prefix)) fail(label, prefix, 'contains an invalid Unicode character');
  if (prefix.startsWith('/'))
    fail(
      label,
      prefix,
      `remove the leading "/": S3 keys do not start with one, e.g. ${quoteValue(prefix.replace(/^\/+/, ''))}`,
    );
  if (prefix.includes('\\')) fail(label, prefix, 'contains "\\"; S3 folders are separated by "/"');
  // These would become wildcards or policy variables in the generated IAM resource ARN.
  if (/[*?]/.test(prefix) || prefix.includes('${')) {
    fail(
      label,
      prefix,
      'cannot contain "*", "?" or "${": they are wildcards or variables in IAM policies, so the policy would cover more than this prefix',
    );
  }
  const normalized = prefix.endsWith('/') ? prefix : `${prefix}/`;
  for (const seg of normalized.slice(0, -1).split('/')) {
    if (seg === '')
      fail(label, prefix, 'has an empty folder name ("//"); use single "/" between folders, e.g. uploads/your-team/');
    if (seg === '.' || seg === '..')
      fail(label, prefix, `cannot contain a "${seg}" folder; give the literal path, e.g. uploads/your-team/`);
  }
  const bytes = Buffer.byteLength(normalized, 'utf8');
  if (bytes > MAX_PREFIX_BYTES) {
    fail(
      label,
      prefix,
      `is ${bytes} bytes; at most ${MAX_PREFIX_BYTES} are allowed so that our file names still fit S3's 1024-byte key limit`,
    );
  }
  return normalized;
}

const EXTERNAL_ID_CHAR = /^[A-Za-z0-9_+=,.@:/-]$/;

export function validateExternalId(id: string): void {
  const label = 's3_external_id';
  if (id.length < 2 || id.length > 1224) {
    fail(
      label,
      id,
      `an ExternalId is 2–1224 characters (this one is ${id.length}); generate one with e.g. "ds-" + 32 hex digits`,
    );
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
