import { describe, it, expect } from 'vitest';
import { ValidationError } from '../../common/errors';
import { DESTINATION_KEYS, destinationFromProperties } from '../../common/domain/destination';
import {
  generateExternalId,
  normalizePrefix,
  parseRoleArn,
  partitionOfRegion,
  validateBucketName,
  validateExternalId,
} from '../../common/domain/aws-names';
import { validateProfileId, validatePropertyName } from '../../common/domain/ids';
import { quoteValue } from '../../common/domain/quoting';

/** Runs fn, asserts it threw a ValidationError, returns the message. */
function validationMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

const EXT = 'ds-0123456789abcdef0123456789abcdef';

function props(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    s3_role_arn: 'arn:aws:iam::111122223333:role/DataShareWriter',
    s3_bucket: 'their-company-data',
    s3_region: 'us-east-1',
    s3_prefix: 'uploads/your-team/',
    s3_external_id: EXT,
    ...overrides,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) out[k] = v;
  return out;
}

describe('quoteValue', () => {
  it('JSON-quotes and escapes control characters', () => {
    expect(quoteValue('a"b\nc')).toBe('"a\\"b\\nc"');
  });
  it('truncates long values and says how long they were', () => {
    const q = quoteValue('x'.repeat(5000));
    expect(q.length).toBeLessThan(140);
    expect(q).toContain('5000 characters');
  });
});

describe('parseRoleArn', () => {
  it('parses a plain role ARN', () => {
    expect(parseRoleArn('arn:aws:iam::111122223333:role/DataShareWriter')).toEqual({
      partition: 'aws',
      accountId: '111122223333',
      path: '/',
      roleName: 'DataShareWriter',
    });
  });

  it('parses a role with a path, in each partition', () => {
    expect(parseRoleArn('arn:aws-us-gov:iam::111122223333:role/service/data/Writer')).toEqual({
      partition: 'aws-us-gov',
      accountId: '111122223333',
      path: '/service/data/',
      roleName: 'Writer',
    });
    expect(parseRoleArn('arn:aws-cn:iam::111122223333:role/w+=,.@-_1').partition).toBe('aws-cn');
  });

  it('accepts a 64-character role name and rejects 65', () => {
    expect(parseRoleArn(`arn:aws:iam::111122223333:role/${'r'.repeat(64)}`).roleName).toHaveLength(64);
    expect(validationMessage(() => parseRoleArn(`arn:aws:iam::111122223333:role/${'r'.repeat(65)}`))).toContain(
      'at most 64',
    );
  });

  it('explains a short account id with an example', () => {
    const msg = validationMessage(() => parseRoleArn('arn:aws:iam::12345:role/x'));
    expect(msg).toBe(
      's3_role_arn "arn:aws:iam::12345:role/x": the account id must be 12 digits, e.g. arn:aws:iam::111122223333:role/DataShareWriter',
    );
  });

  it('rejects IAM users, account roots and groups with a hint', () => {
    expect(validationMessage(() => parseRoleArn('arn:aws:iam::111122223333:user/alice'))).toContain(
      'IAM user, not a role',
    );
    expect(validationMessage(() => parseRoleArn('arn:aws:iam::111122223333:root'))).toContain(
      'whole account, not a role',
    );
    expect(validationMessage(() => parseRoleArn('arn:aws:iam::111122223333:group/admins'))).toContain(
      'must name a role',
    );
  });

  it('rejects an STS assumed-role session ARN and suggests the role ARN', () => {
    const msg = validationMessage(() =>
      parseRoleArn('arn:aws:sts::111122223333:assumed-role/DataShareWriter/session-1'),
    );
    expect(msg).toContain('role session ARN');
    expect(msg).toContain('arn:aws:iam::111122223333:role/DataShareWriter');
  });

  it('rejects other services, regions, partitions and non-ARNs', () => {
    expect(validationMessage(() => parseRoleArn('arn:aws:s3:::their-company-data'))).toContain('IAM role ARN');
    expect(validationMessage(() => parseRoleArn('arn:aws:iam:us-east-1:111122223333:role/x'))).toContain('no region');
    expect(validationMessage(() => parseRoleArn('arn:aws-iso:iam::111122223333:role/x'))).toContain('not supported');
    expect(validationMessage(() => parseRoleArn('arn:azure:iam::111122223333:role/x'))).toContain(
      'aws, aws-us-gov or aws-cn',
    );
    expect(validationMessage(() => parseRoleArn('DataShareWriter'))).toContain('not an ARN');
    expect(validationMessage(() => parseRoleArn(''))).toContain('s3_role_arn is empty');
  });

  it('rejects bad role names and paths', () => {
    expect(validationMessage(() => parseRoleArn('arn:aws:iam::111122223333:role/'))).toContain('role name');
    expect(validationMessage(() => parseRoleArn('arn:aws:iam::111122223333:role/a b'))).toContain('" "');
    expect(validationMessage(() => parseRoleArn('arn:aws:iam::111122223333:role/a//b'))).toContain('empty segment');
    expect(validationMessage(() => parseRoleArn('arn:aws:iam::111122223333:role/p*th/b'))).toContain('"*"');
    const longPath = Array.from({ length: 60 }, () => 'abcdefghi').join('/');
    expect(validationMessage(() => parseRoleArn(`arn:aws:iam::111122223333:role/${longPath}/x`))).toContain(
      'at most 512',
    );
  });

  it('rejects surrounding whitespace rather than trimming silently', () => {
    expect(validationMessage(() => parseRoleArn(' arn:aws:iam::111122223333:role/x\n'))).toContain('whitespace');
  });
});

describe('validateBucketName', () => {
  it.each(['abc', 'their-company-data', 'my.bucket.name', 'a1b', 'x'.repeat(63), '192.168.5.4x'])(
    'accepts %s',
    (name) => {
      expect(() => validateBucketName(name)).not.toThrow();
    },
  );

  it.each([
    ['', 'empty'],
    ['ab', '3–63'],
    ['x'.repeat(64), '3–63'],
    ['My-Bucket', 'lowercase'],
    ['my_bucket', '"_"'],
    ['-bucket', 'begin and end'],
    ['bucket-', 'begin and end'],
    ['.bucket', 'begin and end'],
    ['my..bucket', '".."'],
    ['192.168.5.4', 'IP address'],
    ['xn--bucket', 'reserved'],
    ['sthree-bucket', 'reserved'],
    ['amzn-s3-demo-bucket', 'reserved'],
    ['bucket-s3alias', 'access point'],
    ['bucket--ol-s3', 'access point'],
    ['bucket.mrap', 'access point'],
    ['bucket--use1-az4--x-s3', 'directory/table'],
    ['bucket--table-s3', 'directory/table'],
    ['s3://their-company-data', 'bare bucket name'],
    ['arn:aws:s3:::their-company-data', 'bare bucket name'],
    ['their-company-data/uploads', 's3_prefix'],
    ['their-company-data ', 'whitespace'],
  ])('rejects %j (%s)', (name, hint) => {
    const msg = validationMessage(() => validateBucketName(name));
    expect(msg).toContain('s3_bucket');
    expect(msg).toContain(hint);
  });
});

describe('partitionOfRegion', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-central-1', 'aws'],
    ['ap-southeast-1', 'aws'],
    ['il-central-1', 'aws'],
    ['mx-central-1', 'aws'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-gov-east-1', 'aws-us-gov'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
  ])('%s is in %s', (region, partition) => {
    expect(partitionOfRegion(region)).toBe(partition);
  });

  it('rejects ISO regions as unsupported', () => {
    expect(validationMessage(() => partitionOfRegion('us-iso-east-1'))).toContain('not supported');
    expect(validationMessage(() => partitionOfRegion('us-isob-east-1'))).toContain('not supported');
  });

  it('gives targeted hints for near misses', () => {
    expect(validationMessage(() => partitionOfRegion('US-EAST-1'))).toContain('"us-east-1"');
    expect(validationMessage(() => partitionOfRegion('us-east-1a'))).toContain('availability zone');
    expect(validationMessage(() => partitionOfRegion('us-gov-east'))).toContain('"us-gov-east-1"');
    expect(validationMessage(() => partitionOfRegion('virginia'))).toContain('e.g. us-east-1');
    expect(validationMessage(() => partitionOfRegion('us_east_1'))).toContain('s3_region');
    expect(validationMessage(() => partitionOfRegion(''))).toContain('empty');
  });
});

describe('normalizePrefix', () => {
  it.each([
    ['uploads/your-team/', 'uploads/your-team/'],
    ['uploads/your-team', 'uploads/your-team/'],
    ['a', 'a/'],
    ['My Data/2024 (Q1)/', 'My Data/2024 (Q1)/'],
    ['données/été', 'données/été/'],
    ['', ''],
  ])('%j -> %j', (input, out) => {
    expect(normalizePrefix(input)).toBe(out);
  });

  it('is idempotent', () => {
    expect(normalizePrefix(normalizePrefix('a/b'))).toBe('a/b/');
  });

  it.each([
    ['/uploads/', 'leading "/"'],
    ['/', 'leave s3_prefix empty'],
    ['a//b', '"//"'],
    ['a/./b', '"."'],
    ['a/../b', '".."'],
    ['..', '".."'],
    ['a/\u0000b', 'control character'],
    ['a\tb', 'control character'],
    ['a\u007fb', 'control character'],
    ['a\\b', 'separated by "/"'],
    ['a/*', 'wildcards'],
    ['a?', 'wildcards'],
    ['home/${aws:username}/', 'wildcards'],
    ['s3://bucket/a', 'path inside the bucket'],
    [' a/', 'whitespace'],
    ['a\uD800b', 'invalid Unicode'],
  ])('rejects %j', (input, hint) => {
    const msg = validationMessage(() => normalizePrefix(input));
    expect(msg).toContain('s3_prefix');
    expect(msg).toContain(hint);
  });

  it('limits the prefix to 512 bytes, counting UTF-8 bytes', () => {
    expect(normalizePrefix('a'.repeat(511))).toHaveLength(512);
    expect(validationMessage(() => normalizePrefix('a'.repeat(512)))).toContain('513 bytes');
    // 200 two-byte characters: 200 characters but 401 bytes with the '/'.
    expect(() => normalizePrefix('é'.repeat(200))).not.toThrow();
    expect(validationMessage(() => normalizePrefix('é'.repeat(256)))).toContain('513 bytes');
  });
});

describe('validateExternalId / generateExternalId', () => {
  it.each(['ab', EXT, 'a+b=c,d.e@f:g/h-i_j', 'x'.repeat(1224)])('accepts case %#', (id) => {
    expect(() => validateExternalId(id)).not.toThrow();
  });
  it.each([
    ['', '2–1224'],
    ['a', '2–1224'],
    ['x'.repeat(1225), '2–1224'],
    ['has space', '" "'],
    ['semi;colon', '";"'],
    ["quote'", `"'"`],
  ])('rejects case %#', (id, hint) => {
    const msg = validationMessage(() => validateExternalId(id));
    expect(msg).toContain('s3_external_id');
    expect(msg).toContain(hint);
  });
  it('generates valid, distinct ids', () => {
    const ids = new Set(Array.from({ length: 50 }, () => generateExternalId()));
    expect(ids.size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^ds-[0-9a-f]{32}$/);
      expect(() => validateExternalId(id)).not.toThrow();
    }
  });
});

describe('validateProfileId', () => {
  it.each(['a', 'acme-corp', 'Acme_Corp.eu-1', '0', 'x'.repeat(64)])('accepts %s', (id) => {
    expect(() => validateProfileId(id)).not.toThrow();
  });
  it.each(['', 'x'.repeat(65), '-acme', '.acme', '_acme', 'acme/corp', 'acme corp', 'a..b', 'acme..', 'ácme', 'a:b'])(
    'rejects %j',
    (id) => {
      expect(validationMessage(() => validateProfileId(id))).toContain('profile id');
    },
  );
});

describe('validatePropertyName', () => {
  it.each(['a', '_', 'tenant_id', 'S3_Bucket', `a${'b'.repeat(62)}`])('accepts %s', (k) => {
    expect(() => validatePropertyName(k)).not.toThrow();
  });
  it.each(['', '1abc', 'tenant-id', 'tenant id', 'a.b', `a${'b'.repeat(63)}`, 'ténant'])('rejects %j', (k) => {
    expect(validationMessage(() => validatePropertyName(k))).toContain('property name');
  });
});

describe('destinationFromProperties', () => {
  it('builds a destination from a complete profile', () => {
    expect(destinationFromProperties({ ...props(), tenant_id: '42' })).toEqual({
      roleArn: 'arn:aws:iam::111122223333:role/DataShareWriter',
      partition: 'aws',
      accountId: '111122223333',
      bucket: 'their-company-data',
      region: 'us-east-1',
      prefix: 'uploads/your-team/',
      externalId: EXT,
    });
  });

  it('normalises the prefix and treats a missing or empty prefix as the bucket root', () => {
    expect(destinationFromProperties(props({ s3_prefix: 'a/b' })).prefix).toBe('a/b/');
    expect(destinationFromProperties(props({ s3_prefix: undefined })).prefix).toBe('');
    expect(destinationFromProperties(props({ s3_prefix: '' })).prefix).toBe('');
  });

  it('accepts s3_acl bucket-owner-full-control only', () => {
    expect(destinationFromProperties(props({ s3_acl: 'bucket-owner-full-control' })).acl).toBe(
      'bucket-owner-full-control',
    );
    expect(destinationFromProperties(props({ s3_acl: '' })).acl).toBeUndefined();
    expect('acl' in destinationFromProperties(props())).toBe(false);
    const msg = validationMessage(() => destinationFromProperties(props({ s3_acl: 'public-read' })));
    expect(msg).toContain('s3_acl "public-read"');
    expect(msg).toContain('bucket-owner-full-control');
  });

  it('lists every missing required property at once', () => {
    const msg = validationMessage(() =>
      destinationFromProperties(props({ s3_role_arn: undefined, s3_region: undefined, s3_external_id: undefined })),
    );
    expect(msg).toContain('s3_role_arn, s3_region, s3_external_id');
    expect(msg).not.toContain('lacks properties s3_bucket');
  });

  it('catches typos in s3_ keys', () => {
    const msg = validationMessage(() => destinationFromProperties({ ...props(), s3_prefx: 'a/' }));
    expect(msg).toContain('s3_prefx');
    expect(msg).toContain(DESTINATION_KEYS.join(', '));
  });

  it('validates every property name and value', () => {
    expect(validationMessage(() => destinationFromProperties({ ...props(), 'tenant-id': '1' }))).toContain(
      '"tenant-id"',
    );
    expect(validationMessage(() => destinationFromProperties({ ...props(), tenant_id: 'a\u0000b' }))).toContain('NUL');
    const fromJson: unknown = JSON.parse('{"tenant_id": 42}');
    const bad = { ...props(), ...(fromJson as Record<string, string>) };
    expect(validationMessage(() => destinationFromProperties(bad))).toContain('must be a string, not number');
  });

  it('passes each field through its validator', () => {
    expect(validationMessage(() => destinationFromProperties(props({ s3_bucket: 'Bad_Bucket' })))).toContain(
      's3_bucket',
    );
    expect(validationMessage(() => destinationFromProperties(props({ s3_prefix: '/x' })))).toContain('s3_prefix');
    expect(validationMessage(() => destinationFromProperties(props({ s3_external_id: 'x' })))).toContain(
      's3_external_id',
    );
    expect(validationMessage(() => destinationFromProperties(props({ s3_region: 'moon' })))).toContain('s3_region');
  });

  it('accepts matching non-commercial partitions', () => {
    const gov = destinationFromProperties(
      props({ s3_role_arn: 'arn:aws-us-gov:iam::111122223333:role/W', s3_region: 'us-gov-west-1' }),
    );
    expect(gov.partition).toBe('aws-us-gov');
    const cn = destinationFromProperties(
      props({ s3_role_arn: 'arn:aws-cn:iam::111122223333:role/W', s3_region: 'cn-north-1' }),
    );
    expect(cn.partition).toBe('aws-cn');
  });

  it('rejects a region outside the role ARN partition, naming both', () => {
    const msg = validationMessage(() => destinationFromProperties(props({ s3_region: 'us-gov-west-1' })));
    expect(msg).toContain('s3_region "us-gov-west-1" is in partition aws-us-gov');
    expect(msg).toContain('s3_role_arn "arn:aws:iam::111122223333:role/DataShareWriter" is in partition aws');
    const msg2 = validationMessage(() =>
      destinationFromProperties(
        props({ s3_role_arn: 'arn:aws-cn:iam::111122223333:role/W', s3_region: 'eu-central-1' }),
      ),
    );
    expect(msg2).toContain('aws-cn');
    expect(msg2).toContain('eu-central-1');
  });

  it('ignores inherited keys', () => {
    const inherited: Record<string, string> = Object.create({ s3_bucket: 'inherited-bucket' }) as Record<
      string,
      string
    >;
    Object.assign(inherited, props({ s3_bucket: undefined }));
    expect(validationMessage(() => destinationFromProperties(inherited))).toContain('lacks property s3_bucket');
  });
});
