import { describe, expect, it } from 'vitest';
import { compressionProblem, effectiveCompression, fileExtension } from '../../common/contracts/delivery';

// One rule, in common/contracts/delivery.ts, for which compression goes with which format.
describe('compressions per format', () => {
  it('allows gzip and none for text formats, and Parquet its page codecs', () => {
    for (const c of ['gzip', 'none'] as const) expect(compressionProblem('csv', c)).toBeUndefined();
    for (const c of ['snappy', 'zstd', 'gzip', 'none'] as const)
      expect(compressionProblem('parquet', c)).toBeUndefined();
    expect(compressionProblem('csv', 'snappy')).toBe(
      '--compression for csv must be one of gzip, none, not "snappy" (default gzip)',
    );
    expect(compressionProblem('jsonl', 'zstd')).toMatch(/jsonl must be one of gzip, none/);
  });

  it("takes the dataset's compression for its own format, and the default for another", () => {
    const dataset = { format: 'csv' as const, compression: 'none' as const };
    expect(effectiveCompression('csv', undefined, dataset)).toBe('none');
    expect(effectiveCompression('parquet', undefined, dataset)).toBe('snappy');
    expect(effectiveCompression('parquet', 'zstd', dataset)).toBe('zstd');
  });

  it('names Parquet files .parquet whatever the codec', () => {
    expect(fileExtension('parquet', 'gzip')).toBe('parquet');
    expect(fileExtension('parquet', 'snappy')).toBe('parquet');
    expect(fileExtension('csv', 'gzip')).toBe('csv.gz');
    expect(fileExtension('jsonl', 'none')).toBe('jsonl');
  });
});
