import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { destinationFromProperties } from '../../common/domain/destination';
import { buildPolicies } from '../../common/domain/policy';
import { cloudFormationTemplate, terraformConfig } from '../../common/domain/role-templates';
import { STACK_DIR } from '../../scripts/local/stack-env';

/**
 * The end user's role as CloudFormation and Terraform, checked by readers no one
 * here wrote: cfn-lint validates the template in each partition, and python-hcl2
 * parses the Terraform, whose policies must equal the JSON documents exactly.
 * (terraform itself cannot reach its provider registry here.)
 */
const VENV_BIN = join(STACK_DIR, 'venv', 'bin');
const dir = mkdtempSync(join(tmpdir(), 'role-templates-'));

const PARTITIONS = [
  { partition: 'aws', region: 'us-east-1', sharer: 'arn:aws:iam::251497699814:root' },
  { partition: 'aws-us-gov', region: 'us-gov-east-1', sharer: 'arn:aws-us-gov:iam::184115685153:root' },
  { partition: 'aws-cn', region: 'cn-north-1', sharer: 'arn:aws-cn:iam::123456789012:root' },
] as const;

const HCL_POLICIES = `
import hcl2, json, sys
doc = hcl2.load(open(sys.argv[1]))
def unquote(s):
    return s[1:-1] if s.startswith('"') and s.endswith('"') else s
def heredoc(s):
    s = unquote(s)
    lines = s.split("\\n")
    assert lines[0].startswith("<<"), lines[0]
    return json.loads("\\n".join(lines[1:-1]))
out = {}
for block in doc["resource"]:
    for rtype, named in block.items():
        for name, body in named.items():
            out[unquote(rtype)] = {k: (heredoc(v) if k.endswith("policy") else v) for k, v in body.items()}
print(json.dumps(out))
`;

function policiesFor(p: (typeof PARTITIONS)[number]) {
  const dest = destinationFromProperties({
    s3_role_arn: `arn:${p.partition}:iam::111122223333:role/data/DataShareWriter`,
    s3_bucket: 'their-company-data',
    s3_region: p.region,
    s3_prefix: 'incoming/acme/',
    s3_external_id: 'ds-0123456789abcdef0123456789abcdef',
  });
  return { dest, policies: buildPolicies(dest, p.sharer) };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('role templates (CloudFormation, Terraform)', () => {
  for (const p of PARTITIONS) {
    it(`cfn-lint accepts the CloudFormation template in ${p.partition} (${p.region})`, () => {
      const { dest, policies } = policiesFor(p);
      const template = cloudFormationTemplate(dest, policies, p.sharer) as {
        Resources: { DataShareRole: { Properties: Record<string, unknown> } };
      };
      const file = join(dir, `${p.partition}.json`);
      writeFileSync(file, JSON.stringify(template, null, 2));
      const r = spawnSync(join(VENV_BIN, 'cfn-lint'), ['--regions', p.region, '--', file], { encoding: 'utf8' });
      expect(r.error).toBeUndefined();
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
      const props = template.Resources.DataShareRole.Properties;
      expect(props.AssumeRolePolicyDocument).toEqual(policies.trustPolicy);
      expect(props.Policies).toEqual([{ PolicyName: 'datashare-write', PolicyDocument: policies.permissionsPolicy }]);
      expect(props.RoleName).toBe('DataShareWriter');
      expect(props.Path).toBe('/data/');
    });

    it(`the Terraform's policies equal the JSON documents in ${p.partition}`, () => {
      const { dest, policies } = policiesFor(p);
      const file = join(dir, `${p.partition}.tf`);
      writeFileSync(file, terraformConfig(dest, policies, p.sharer));
      const parsed = JSON.parse(
        execFileSync(join(VENV_BIN, 'python'), ['-c', HCL_POLICIES, file], { encoding: 'utf8' }),
      ) as Record<string, Record<string, unknown>>;
      expect(parsed.aws_iam_role.assume_role_policy).toEqual(policies.trustPolicy);
      expect(parsed.aws_iam_role.name).toBe('"DataShareWriter"');
      expect(parsed.aws_iam_role.path).toBe('"/data/"');
      expect(parsed.aws_iam_role_policy.policy).toEqual(policies.permissionsPolicy);
    });
  }

  for (const key of [
    {
      name: "a key in the role's account",
      arn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      crossAccount: false,
    },
    {
      name: 'a key in another account',
      arn: 'arn:aws:kms:us-east-1:444455556666:key/mrk-0123456789abcdef0123456789abcdef',
      crossAccount: true,
    },
    { name: 'a key alias', arn: 'arn:aws:kms:us-east-1:111122223333:alias/datashare', crossAccount: false },
  ]) {
    it(`SSE-KMS with ${key.name}: KMS permissions in every format, the key-policy statement when cross-account, cfn-lint accepts it`, () => {
      const dest = destinationFromProperties({
        s3_role_arn: 'arn:aws:iam::111122223333:role/data/DataShareWriter',
        s3_bucket: 'their-company-data',
        s3_region: 'us-east-1',
        s3_prefix: 'incoming/acme/',
        s3_external_id: 'ds-0123456789abcdef0123456789abcdef',
        s3_sse: 'aws:kms',
        s3_kms_key_arn: key.arn,
      });
      const policies = buildPolicies(dest, PARTITIONS[0].sharer);
      const kms = policies.permissionsPolicy.Statement.find((st) => st.Sid === 'AllowDataShareToEncryptWithKey');
      expect(kms?.Action).toEqual(['kms:GenerateDataKey*', 'kms:Decrypt']);
      expect(kms?.Resource).toBe(key.arn.includes(':alias/') ? 'arn:aws:kms:us-east-1:111122223333:key/*' : key.arn);
      if (key.crossAccount) {
        expect(policies.keyPolicyStatement).toMatchObject({
          Principal: { AWS: dest.roleArn },
          Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        });
      } else {
        expect(policies.keyPolicyStatement).toBeUndefined();
      }
      const template = cloudFormationTemplate(dest, policies, PARTITIONS[0].sharer) as {
        Resources: { DataShareRole: { Properties: Record<string, unknown> } };
      };
      const file = join(
        dir,
        `kms-${key.crossAccount ? 'cross' : 'same'}-${key.arn.includes('alias') ? 'alias' : 'key'}.json`,
      );
      writeFileSync(file, JSON.stringify(template, null, 2));
      const r = spawnSync(join(VENV_BIN, 'cfn-lint'), ['--regions', 'us-east-1', '--', file], { encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
      expect(template.Resources.DataShareRole.Properties.Policies).toEqual([
        { PolicyName: 'datashare-write', PolicyDocument: policies.permissionsPolicy },
      ]);
      const tf = join(dir, `kms-${key.crossAccount ? 'cross' : 'same'}.tf`);
      writeFileSync(tf, terraformConfig(dest, policies, PARTITIONS[0].sharer));
      const parsed = JSON.parse(
        execFileSync(join(VENV_BIN, 'python'), ['-c', HCL_POLICIES, tf], { encoding: 'utf8' }),
      ) as Record<string, Record<string, unknown>>;
      expect(parsed.aws_iam_role_policy.policy).toEqual(policies.permissionsPolicy);
    });
  }

  it('cfn-lint is a real check: it rejects a template with an impossible session duration', () => {
    const { dest, policies } = policiesFor(PARTITIONS[0]);
    const template = cloudFormationTemplate(dest, policies, PARTITIONS[0].sharer) as {
      Resources: { DataShareRole: { Properties: Record<string, unknown> } };
    };
    template.Resources.DataShareRole.Properties.MaxSessionDuration = 60;
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify(template));
    const r = spawnSync(join(VENV_BIN, 'cfn-lint'), ['--regions', 'us-east-1', '--', file], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('E3034');
  });
});
