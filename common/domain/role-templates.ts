/**
 * The end user's role as infrastructure code: a CloudFormation template and a
 * Terraform configuration that create exactly the role `profile policy` describes
 * (same trust policy, same permissions policy), so the end user can review one
 * file and apply it instead of pasting three documents into the console.
 */
import { type S3Destination } from './destination';
import { parseRoleArn } from './aws-names';
import type { EndUserPolicies, PolicyDocument } from './policy';

export const POLICY_FORMATS = ['json', 'cloudformation', 'terraform'] as const;
export type PolicyFormat = (typeof POLICY_FORMATS)[number];

/** The inline policy's name on the role, in both templates. */
const WRITE_POLICY_NAME = 'datashare-write';

function describe(dest: S3Destination, sharerPrincipal: string): string {
  return `Lets ${sharerPrincipal} write under s3://${dest.bucket}/${dest.prefix} through this role (sts:ExternalId required)`;
}

/**
 * The role name and path come from the profile's s3_role_arn, so the created role
 * is the one the sharer will assume. Naming an IAM resource needs CAPABILITY_NAMED_IAM.
 */
export function cloudFormationTemplate(
  dest: S3Destination,
  policies: EndUserPolicies,
  sharerPrincipal: string,
): object {
  const { roleName, path } = parseRoleArn(dest.roleArn);
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: describe(dest, sharerPrincipal),
    // A key in another account is not this stack's to change: its owner adds this statement to the key policy.
    ...(policies.keyPolicyStatement ? { Metadata: { DataShareKeyPolicyStatement: policies.keyPolicyStatement } } : {}),
    Resources: {
      DataShareRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: roleName,
          Path: path,
          Description: `datashare delivery role for s3://${dest.bucket}/${dest.prefix}`,
          // Role chaining caps the sharer's sessions at one hour anyway; longer is not needed.
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: policies.trustPolicy,
          Policies: [{ PolicyName: WRITE_POLICY_NAME, PolicyDocument: policies.permissionsPolicy }],
        },
      },
    },
    Outputs: {
      RoleArn: {
        Description: 'Give this ARN to the sharer as s3_role_arn',
        Value: { 'Fn::GetAtt': ['DataShareRole', 'Arn'] },
      },
    },
  };
}

/** A policy as a heredoc of JSON: what `profile policy --format json` prints, byte for byte comparable. */
function heredoc(doc: PolicyDocument): string {
  return `<<-EOT\n${JSON.stringify(doc, null, 2)
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n  EOT`;
}

function hclString(s: string): string {
  // JSON string escaping is valid HCL for these characters; "${" and "%{" would start a template.
  return JSON.stringify(s).replace(/\$\{/g, '$${').replace(/%\{/g, '%%{');
}

/** The key-policy statement for a key in another account, as comments: it is applied there, not by this configuration. */
function keyPolicyComment(policies: EndUserPolicies): string {
  const st = policies.keyPolicyStatement;
  if (!st) return '';
  const json = JSON.stringify(st, null, 2)
    .split('\n')
    .map((l) => `#   ${l}`)
    .join('\n');
  return `# The KMS key is in another account: its owner adds this statement to the key policy there.\n${json}\n`;
}

export function terraformConfig(dest: S3Destination, policies: EndUserPolicies, sharerPrincipal: string): string {
  const { roleName, path } = parseRoleArn(dest.roleArn);
  return `# ${describe(dest, sharerPrincipal)}
# Apply in the role's account (${dest.accountId}), then give the sharer the role_arn output.
${keyPolicyComment(policies)}
resource "aws_iam_role" "datashare" {
  name                 = ${hclString(roleName)}
  path                 = ${hclString(path)}
  max_session_duration = 3600
  assume_role_policy   = ${heredoc(policies.trustPolicy)}
}

resource "aws_iam_role_policy" "datashare_write" {
  name   = ${hclString(WRITE_POLICY_NAME)}
  role   = aws_iam_role.datashare.id
  policy = ${heredoc(policies.permissionsPolicy)}
}

output "role_arn" {
  description = "Give this ARN to the sharer as s3_role_arn"
  value       = aws_iam_role.datashare.arn
}
`;
}
