/**
 * Encryption of the secrets datashare keeps in its tables (webhook signing
 * secrets): AES-256-GCM under a key derived with HKDF-SHA256 from
 * DATASHARE_SECRET_KEY, the record's id bound in as associated data so a
 * ciphertext cannot be moved to another row. Node's crypto only: no library
 * needed for two well-specified primitives.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { SecretKeyMissingError } from '../errors';

const MIN_KEY_LENGTH = 32;
const VERSION = 'v1';

/** The 32-byte key, or a clear error when DATASHARE_SECRET_KEY is missing or too short. */
export function secretKey(env: NodeJS.ProcessEnv = process.env): Buffer {
  const raw = env.DATASHARE_SECRET_KEY;
  if (!raw)
    throw new SecretKeyMissingError(
      'DATASHARE_SECRET_KEY is not set: webhooks keep their signing secrets encrypted under it; set it (32 characters or more, e.g. `openssl rand -base64 32`) for the CLI and every worker',
    );
  if (raw.length < MIN_KEY_LENGTH)
    throw new SecretKeyMissingError(
      `DATASHARE_SECRET_KEY has ${raw.length} characters; it needs ${MIN_KEY_LENGTH} or more (e.g. \`openssl rand -base64 32\`)`,
    );
  return Buffer.from(hkdfSync('sha256', raw, 'datashare', 'datashare stored secrets v1', 32));
}

export function sealSecret(plain: string, recordId: string, key: Buffer = secretKey()): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(recordId));
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url')}`;
}

export function openSecret(sealed: string, recordId: string, key: Buffer = secretKey()): string {
  const [version, data] = sealed.split('.');
  if (version !== VERSION || !data) throw new Error(`stored secret of ${recordId} is not in a known format`);
  const buf = Buffer.from(data, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
  decipher.setAAD(Buffer.from(recordId));
  decipher.setAuthTag(buf.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretKeyMissingError(
      `the stored secret of ${recordId} does not open with this DATASHARE_SECRET_KEY: the CLI and the workers must share one key`,
    );
  }
}
