import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { accountCreds } from '../../scripts/local/end-user-account';
import { STACK_DIR } from '../../scripts/local/stack-env';

const run = promisify(execFile);

/** A column as the checker compares it (kinds as in activities/export/parquet/type-mapping.ts). */
export interface CheckedColumn {
  name: string;
  kind: string;
  list: boolean;
}

export interface ReadersReport {
  files: {
    created_by: string;
    rows: number;
    leaves: Record<string, { physical: string; logical: string | null }>;
    row_groups: {
      rows: number;
      columns: Record<string, { min_max: boolean; null_count: number | null; dictionary: boolean }>;
    }[];
  }[];
  duckdb_types: [string, string][];
  problems: string[];
}

/** The stack's venv, where scripts/stack/install.sh puts pyarrow and DuckDB (CHECKER_PINS). */
function venvPython(): string {
  return join(STACK_DIR, 'venv', 'bin', 'python');
}

function extensionDir(): string {
  const lib = join(STACK_DIR, 'venv', 'lib');
  const py = readdirSync(lib).find((d) => d.startsWith('python'));
  return join(lib, py ?? 'python3', 'site-packages', 'duckdb_ext', 'extensions', 'v1.4.4', 'linux_amd64');
}

/**
 * Has pyarrow and DuckDB (test/support/parquet_check.py) read every file, locally and through
 * the manifest's S3 urls straight from the local S3, and compare every value with `expected`.
 */
export async function checkWithReaders(input: {
  columns: CheckedColumn[];
  key: string[];
  expected: unknown[][];
  files: Buffer[];
  manifestUrls: string[];
}): Promise<ReadersReport> {
  const dir = mkdtempSync(join(tmpdir(), 'parquet-check-'));
  try {
    const files = input.files.map((body, i) => {
      const path = join(dir, `part-${i}.parquet`);
      writeFileSync(path, body);
      return path;
    });
    const creds = await accountCreds('other');
    const endpoint = new URL(process.env.AWS_ENDPOINT_URL!);
    const spec = join(dir, 'input.json');
    writeFileSync(
      spec,
      JSON.stringify({
        columns: input.columns,
        key: input.key,
        expected: input.expected,
        files,
        manifest_urls: input.manifestUrls,
        ext_dir: extensionDir(),
        s3: {
          key_id: creds.accessKeyId,
          secret: creds.secretAccessKey,
          session_token: creds.sessionToken ?? '',
          region: 'us-east-1',
          endpoint: endpoint.host,
        },
      }),
    );
    const { stdout } = await run(venvPython(), [join(__dirname, 'parquet_check.py'), spec], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout) as ReadersReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What pyarrow reads of one file: its row count, and whether `key` ascends through it (key order). */
export async function parquetRowsInKeyOrder(body: Buffer, key: string): Promise<{ rows: number; ordered: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'parquet-rows-'));
  try {
    const path = join(dir, 'file.parquet');
    writeFileSync(path, body);
    const script = [
      'import json, sys, pyarrow.parquet as pq',
      't = pq.read_table(sys.argv[1])',
      'k = t.column(sys.argv[2]).to_pylist()',
      'print(json.dumps({"rows": t.num_rows, "ordered": all(a < b for a, b in zip(k, k[1:]))}))',
    ].join('\n');
    const { stdout } = await run(venvPython(), ['-c', script, path, key]);
    return JSON.parse(stdout) as { rows: number; ordered: boolean };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
