import { Option, type Command } from 'commander';
import {
  POLICY_FORMATS,
  cloudFormationTemplate,
  terraformConfig,
  type PolicyFormat,
} from '../../common/domain/role-templates';
import { parseAssignments } from './arg-grammar';
import { EXIT_FAILED, ExitCode } from './exit-codes';
import { printJson } from './output';
import { withDatashare } from './with-datashare';

function printProfile(p: { id: string; properties: Record<string, string>; updatedAt: string }): void {
  process.stdout.write(`profile ${p.id} (updated ${p.updatedAt})\n`);
  for (const [k, v] of Object.entries(p.properties).sort(([a], [b]) => a.localeCompare(b)))
    process.stdout.write(`  ${k}=${v}\n`);
}

/** `datashare profile …`: end users' profiles. */
export function addProfileCommands(program: Command): void {
  const profile = program
    .command('profile')
    .description("manage end users' profiles (key:value properties, one S3 destination each)");
  profile
    .command('set <id> <key=value...>')
    .description(
      'create or update a profile; keys not given are kept.\n' +
        'Destination keys: s3_role_arn, s3_bucket, s3_region, s3_prefix, s3_external_id (generated when absent), s3_acl (bucket-owner-full-control),\n' +
        "s3_bucket_owner (12-digit account, when not the role's), s3_sse (AES256|aws:kms), s3_kms_key_arn (with aws:kms),\n" +
        "s3_instance (the instance that delivers it, when several serve its role's partition: datashare instance list).\n" +
        'Any other key (e.g. tenant_id=42) is a property datasets can use as :tenant_id.',
    )
    .option('--unset <key...>', 'remove these properties')
    .option('--json', 'print the profile as JSON')
    .action(
      withDatashare(async (ds, id: string, pairs: string[], opts: { unset?: string[]; json?: boolean }) => {
        const p = await ds.setProfile(id, parseAssignments(pairs), { unset: opts.unset ?? [] });
        if (opts.json) printJson(p);
        else printProfile(p);
      }),
    );
  profile
    .command('show <id>')
    .description('show one profile')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        const p = await ds.getProfile(id);
        if (opts.json) printJson(p);
        else printProfile(p);
      }),
    );
  profile
    .command('list')
    .description('list profiles')
    .option('--json', 'print a JSON array')
    .action(
      withDatashare(async (ds, opts: { json?: boolean }) => {
        const all = await ds.listProfiles();
        if (opts.json) printJson(all);
        else
          for (const p of all)
            process.stdout.write(
              `${p.id}  ${p.properties.s3_bucket ?? '-'}/${p.properties.s3_prefix ?? ''}  ${p.properties.s3_role_arn ?? '-'}\n`,
            );
      }),
    );
  profile
    .command('delete <id>')
    .description('delete a profile (its deliveries stay on record)')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        await ds.deleteProfile(id);
        if (opts.json) printJson({ id, deleted: true });
        else process.stdout.write(`deleted profile ${id}\n`);
      }),
    );
  profile
    .command('policy <id>')
    .description(
      'print what the end user applies in their AWS account: the trust, permissions and bucket policies (json), or a\n' +
        'CloudFormation template or Terraform configuration that creates the role with them and outputs its ARN.\n' +
        "Set DATASHARE_SHARER_PRINCIPAL_ARN to name the sharer's principal (default: its account root).",
    )
    .addOption(new Option('--format <format>', 'what to print').choices(POLICY_FORMATS).default('json'))
    .option('--json', 'print one JSON object (the three policies)')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean; format: PolicyFormat }) => {
        const { destination, ...p } = await ds.policies(id);
        if (opts.format === 'cloudformation')
          return printJson(cloudFormationTemplate(destination, p, p.sharerPrincipal));
        if (opts.format === 'terraform')
          return void process.stdout.write(terraformConfig(destination, p, p.sharerPrincipal));
        if (opts.json) return printJson(p);
        process.stdout.write(`# 1. Trust policy of the role (trusts ${p.sharerPrincipal}, requires the ExternalId)\n`);
        process.stdout.write(`${JSON.stringify(p.trustPolicy, null, 2)}\n\n`);
        process.stdout.write('# 2. Permissions policy of the role (writes under the prefix only)\n');
        process.stdout.write(`${JSON.stringify(p.permissionsPolicy, null, 2)}\n\n`);
        process.stdout.write('# 3. Optional bucket policy (only if the bucket restricts access further)\n');
        process.stdout.write(`${JSON.stringify(p.bucketPolicy, null, 2)}\n`);
        if (p.keyPolicyStatement) {
          process.stdout.write(
            `\n# 4. Statement to add to the KMS key's policy, in the key's account (${destination.encryption?.kmsKey?.accountId ?? '?'})\n`,
          );
          process.stdout.write(`${JSON.stringify(p.keyPolicyStatement, null, 2)}\n`);
        }
      }),
    );
  profile
    .command('verify <id>')
    .description(
      'assume the role, check the ExternalId is required, write one marker object under the prefix; exit 1 if a delivery would fail',
    )
    .option('--json', 'print the report as JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        const report = await ds.verifyProfile(id);
        if (opts.json) printJson(report);
        else {
          for (const c of report.checks)
            process.stdout.write(`${c.status.toUpperCase().padEnd(5)} ${c.name}: ${c.detail}\n`);
          process.stdout.write(
            report.ok ? `profile ${id} can receive deliveries\n` : `profile ${id} cannot receive deliveries yet\n`,
          );
        }
        if (!report.ok) throw new ExitCode(EXIT_FAILED);
      }),
    );
}
