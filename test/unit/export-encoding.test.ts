import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../activities/export/buffer-pool';
import { PartEncoder } from '../../activities/export/part-encoder';
import { buildManifest } from '../../activities/manifest/build-manifest';

describe('PartEncoder', () => {
  it('emits parts of at least the part size whose gzip members concatenate to the input', async () => {
    const enc = new PartEncoder('gzip', 64 * 1024, 16 * 1024);
    const input = Buffer.from(Array.from({ length: 20000 }, (_, i) => `${i},${(i * 7919) % 104729}\n`).join(''));
    const parts: Buffer[] = [];
    for (let i = 0; i < input.length; i += 1000) {
      parts.push(...(await enc.push(input.subarray(i, i + 1000))));
    }
    const last = await enc.finish();
    if (last) parts.push(last);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts.slice(0, -1)) expect(p.length).toBeGreaterThanOrEqual(64 * 1024);
    expect(gunzipSync(Buffer.concat(parts)).equals(input)).toBe(true);
  });

  it('passes bytes through unchanged without compression', async () => {
    const enc = new PartEncoder('none', 10, 4);
    const out: Buffer[] = [];
    for (const s of ['abc', 'defgh', 'ijklmnop', 'q']) {
      out.push(...(await enc.push(Buffer.from(s))));
    }
    const last = await enc.finish();
    if (last) out.push(last);
    expect(Buffer.concat(out).toString()).toBe('abcdefghijklmnopq');
  });
});

it('cuts the same parts whatever the chunking of its input (resumes depend on it)', async () => {
  const input = Buffer.from(Array.from({ length: 30000 }, (_, i) => `${i};${i * i}\n`).join(''));
  const encodeWithChunks = async (size: number): Promise<string[]> => {
    const enc = new PartEncoder('gzip', 20 * 1024, 8 * 1024);
    const parts: Buffer[] = [];
    for (let i = 0; i < input.length; i += size) parts.push(...(await enc.push(input.subarray(i, i + size))));
    const last = await enc.finish();
    if (last) parts.push(last);
    return parts.map((p) => p.toString('base64'));
  };
  const a = await encodeWithChunks(777);
  expect(a.length).toBeGreaterThan(3);
  expect(await encodeWithChunks(65536)).toEqual(a);
  expect(await encodeWithChunks(1)).toEqual(a);
});

describe('buildManifest', () => {
  it('lists files in order with Redshift COPY manifest entries', () => {
    const files = [
      { key: 'p/ds/d1/part-00000.csv.gz', bytes: 10, rows: 3, sha256: 'a'.repeat(64) },
      { key: 'p/ds/d1/part-00001.csv.gz', bytes: 20, rows: 4, sha256: 'b'.repeat(64) },
    ];
    const m = buildManifest(
      {
        deliveryId: 'd1',
        profileId: 'acme',
        datasetId: 'ds',
        format: 'csv',
        compression: 'gzip',
        target: { roleArn: 'arn:aws:iam::111122223333:role/r', bucket: 'b', region: 'us-east-1', folder: 'p/ds/d1/' },
        columns: [{ name: 'id', type: 'integer' }],
        files,
      },
      { startedAt: 't0', completedAt: 't1' },
    );
    expect(m.rowCount).toBe(7);
    expect(m.entries).toEqual([
      { url: 's3://b/p/ds/d1/part-00000.csv.gz', mandatory: true, meta: { content_length: 10, record_count: 3 } },
      { url: 's3://b/p/ds/d1/part-00001.csv.gz', mandatory: true, meta: { content_length: 20, record_count: 4 } },
    ]);
    expect(JSON.stringify(m)).not.toContain('roleArn');
  });
});

it('gives the same parts when each part is released for reuse as soon as it is read', async () => {
  const input = Buffer.from(Array.from({ length: 40000 }, (_, i) => `${i};${(i * 7919) % 104729}\n`).join(''));
  const encode = async (compression: 'gzip' | 'none', release: boolean): Promise<string[]> => {
    const enc = new PartEncoder(compression, 20 * 1024, 8 * 1024);
    const seen: string[] = [];
    const take = (p: Buffer): void => {
      seen.push(p.toString('base64'));
      if (release) enc.release(p);
    };
    for (let i = 0; i < input.length; i += 8 * 1024) {
      // Whole pool blocks, as the COPY reader fills them.
      const block = enc.blocks.take();
      const n = input.copy(block, 0, i, Math.min(input.length, i + block.length));
      for (const p of await enc.push(n === block.length ? block : block.subarray(0, n))) take(p);
    }
    const last = await enc.finish();
    if (last) take(last);
    return seen;
  };
  for (const compression of ['gzip', 'none'] as const) {
    const reused = await encode(compression, true);
    expect(reused.length).toBeGreaterThan(5);
    expect(reused).toEqual(await encode(compression, false));
    const joined = Buffer.concat(reused.map((p) => Buffer.from(p, 'base64')));
    expect((compression === 'gzip' ? gunzipSync(joined) : joined).equals(input)).toBe(true);
  }
});

describe('BufferPool', () => {
  it('hands back what it was given, and only buffers it allocated', () => {
    const pool = new BufferPool(16, 4);
    const a = pool.take();
    pool.give(a.subarray(0, 5));
    expect(pool.take().buffer).toBe(a.buffer);
    // Same size, not its own: e.g. a slice of Node's shared scratch memory.
    const foreign = Buffer.alloc(16);
    pool.give(foreign);
    expect(pool.take().buffer).not.toBe(foreign.buffer);
  });

  it('keeps a buffer given back twice only once, so two users never share it', () => {
    const pool = new BufferPool(16, 4);
    const a = pool.take();
    pool.give(a);
    pool.give(a);
    expect(pool.take().buffer).toBe(a.buffer);
    expect(pool.take().buffer).not.toBe(a.buffer);
  });
});
