/**
 * What a full-object CRC64NVME checksum would cost the upload path (issue 13): CPU time
 * to checksum ~1 GB in 8 MiB parts with the SDK's own JavaScript implementation
 * (@aws-sdk/checksums, which client-s3 uses when no CRT is installed), next to the
 * SHA-256 every part already gets (node:crypto, the checkpoint's and SigV4's hash).
 *
 *   npx tsx scripts/bench/crc64-cost.ts [--gb 1]
 */
import { createHash, randomFillSync } from 'node:crypto';
import { Crc64NvmeJs } from '@aws-sdk/checksums/crc';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const PART = 8 * 1024 * 1024;
const total = Math.round(arg('gb', 1) * 1024 ** 3);
const parts = Math.max(1, Math.round(total / PART));
const part = randomFillSync(Buffer.alloc(PART));

function cpuSeconds(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1e6;
}

async function main(): Promise<void> {
  const sha = cpuSeconds(() => {
    for (let i = 0; i < parts; i++) createHash('sha256').update(part).digest();
  });
  let crcSeconds = 0;
  const crc = new Crc64NvmeJs();
  crcSeconds = cpuSeconds(() => {
    for (let i = 0; i < parts; i++) crc.update(part);
  });
  const digest = Buffer.from(await crc.digest()).toString('base64');
  const gb = (parts * PART) / 1024 ** 3;
  const line = (name: string, s: number): string =>
    `${name.padEnd(28)} ${s.toFixed(2).padStart(6)} s CPU  ${(gb / s).toFixed(2).padStart(6)} GiB/s`;
  console.log(`${gb.toFixed(2)} GiB in ${parts} parts of 8 MiB`);
  console.log(line('sha256 (node:crypto)', sha));
  console.log(line('crc64nvme (SDK JavaScript)', crcSeconds));
  console.log(`crc64nvme digest ${digest} (to show the work was done)`);
}

void main();
