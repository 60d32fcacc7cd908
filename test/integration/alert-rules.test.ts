import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/local/stack-env';

/** The alert rules exactly as the README shows them (Operations → Metrics and health checks). */
function readmeRules(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .find((b) => b.includes('DatashareDeliveriesFailing'));
  if (!block) throw new Error('README shows no alert rules');
  return block;
}

// promtool's rule unit tests: input series in Prometheus's notation (a+bxn: start at a, add b, n times;
// _ is a missing sample), and the alerts expected at given times, labels and annotations exact.
const RULE_TESTS = `
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # A failure counted on a series that already existed…
      - series: 'datashare_deliveries_total{status="failed",dataset="orders",error_type="AccessDenied",instance="w1"}'
        values: '0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
      # …and one whose first sample already counts a failure (increase() alone would miss it).
      - series: 'datashare_deliveries_total{status="failed",dataset="users",error_type="NoSuchBucket",instance="w2"}'
        values: '_ _ _ 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
      - series: 'datashare_deliveries_total{status="completed",dataset="orders",instance="w1"}'
        values: '0+1x40'
    alert_rule_test:
      - eval_time: 5m
        alertname: DatashareDeliveriesFailing
        exp_alerts:
          - exp_labels: { severity: page, dataset: orders, error_type: AccessDenied }
            exp_annotations:
              summary: 'deliveries of orders fail with AccessDenied'
              description: 'datashare deliveries --status failed --dataset orders --since 1h; the error type says what to fix (README, Decisions worth knowing)'
          - exp_labels: { severity: page, dataset: users, error_type: NoSuchBucket }
            exp_annotations:
              summary: 'deliveries of users fail with NoSuchBucket'
              description: 'datashare deliveries --status failed --dataset users --since 1h; the error type says what to fix (README, Decisions worth knowing)'
      # Nothing new failed in the last 15 minutes: quiet again.
      - eval_time: 35m
        alertname: DatashareDeliveriesFailing
        exp_alerts: []
  - interval: 1m
    input_series:
      # Two workers report the same fleet-wide gauges.
      - series: 'datashare_schedule_interval_seconds{schedule="datashare:acme:orders",instance="w1"}'
        values: '3600x20'
      - series: 'datashare_schedule_interval_seconds{schedule="datashare:acme:orders",instance="w2"}'
        values: '3600x20'
      - series: 'datashare_schedule_seconds_since_success{schedule="datashare:acme:orders",instance="w1"}'
        values: '7000+60x20'
      - series: 'datashare_schedule_seconds_since_success{schedule="datashare:acme:orders",instance="w2"}'
        values: '7000+60x20'
      - series: 'datashare_schedule_interval_seconds{schedule="datashare:beta:orders",instance="w1"}'
        values: '3600x20'
      - series: 'datashare_schedule_seconds_since_success{schedule="datashare:beta:orders",instance="w1"}'
        values: '100+60x20'
    alert_rule_test:
      # Over 7200 s from minute 4; pending for 5 minutes first.
      - eval_time: 6m
        alertname: DatashareScheduleNoSuccess
        exp_alerts: []
      - eval_time: 10m
        alertname: DatashareScheduleNoSuccess
        exp_alerts:
          - exp_labels: { severity: page, schedule: 'datashare:acme:orders' }
            exp_annotations:
              summary: 'schedule datashare:acme:orders has not delivered for over twice its interval'
              description: 'datashare schedule show datashare:acme:orders'
  - interval: 1m
    input_series:
      - series: 'datashare_bytes_delivered_total{dataset="orders",instance="w1"}'
        values: '0+10000x60'
      - series: 'datashare_bytes_resent_total{dataset="orders",instance="w1"}'
        values: '0+2000x60'
      - series: 'datashare_bytes_delivered_total{dataset="users",instance="w2"}'
        values: '0+10000x60'
      - series: 'datashare_bytes_resent_total{dataset="users",instance="w2"}'
        values: '0+0x60'
    alert_rule_test:
      # 2000 of 20000 bytes per minute: exactly 10%, not above.
      - eval_time: 30m
        alertname: DatashareBytesResentHigh
        exp_alerts: []
  - interval: 1m
    input_series:
      - series: 'datashare_bytes_delivered_total{dataset="orders",instance="w1"}'
        values: '0+10000x60'
      - series: 'datashare_bytes_resent_total{dataset="orders",instance="w1"}'
        values: '0+1500x60'
    alert_rule_test:
      - eval_time: 10m
        alertname: DatashareBytesResentHigh
        exp_alerts: []
      - eval_time: 30m
        alertname: DatashareBytesResentHigh
        exp_alerts:
          - exp_labels: { severity: ticket }
            exp_annotations:
              summary: 'over 10% of uploaded bytes were re-sent in the last hour: workers crash or lose S3 mid-file'
`;

/**
 * The README's three alert rules, checked by Prometheus's own promtool: they parse,
 * and fire (and stay quiet) on the series datashare's workers export.
 * scripts/stack/install-promtool.sh installs promtool (npm test's stack install runs it).
 */
describe("the README's alert rules", () => {
  let dir = '';
  let promtoolBin = '';

  beforeAll(() => {
    // Its last line is promtool's path (unpacked into .stack/prometheus).
    promtoolBin = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'stack', 'install-promtool.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .trim()
      .split('\n')
      .pop()!;
    dir = mkdtempSync(join(tmpdir(), 'datashare-rules-'));
    writeFileSync(join(dir, 'rules.yml'), readmeRules());
    writeFileSync(join(dir, 'rules.test.yml'), RULE_TESTS);
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function promtool(...args: string[]): string {
    try {
      return execFileSync(promtoolBin, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string };
      throw new Error(`promtool ${args.join(' ')} failed:\n${x.stdout ?? ''}${x.stderr ?? ''}`);
    }
  }

  it('parse as Prometheus rules: three alerts', () => {
    expect(promtool('check', 'rules', 'rules.yml')).toMatch(/SUCCESS: 3 rules found/);
  });

  it('fire on failed deliveries, a schedule without success for 2× its interval, and over 10% bytes re-sent', () => {
    expect(promtool('test', 'rules', 'rules.test.yml')).toMatch(/SUCCESS/);
  });
});
