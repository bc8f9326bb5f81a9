// Secrets inside message text (verification codes) must not sit in the database in clear, nor
// be readable through the API: the stored body shows the secret masked, and the real body is
// sealed with AES-256-GCM for the dispatcher, the only reader that needs it.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** iv ‖ tag ‖ ciphertext. `key` is 32 bytes. */
export function sealText(key: Buffer, text: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

/** The sealed text; throws when the key is wrong or the bytes were altered. */
export function openSealed(key: Buffer, sealed: Uint8Array): string {
  const bytes = Buffer.from(sealed);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
  decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}

/** Every occurrence of `secret` in `text` replaced by as many `•` (segments stay those of the real text). */
export function maskSecret(text: string, secret: string): string {
  return secret ? text.split(secret).join('•'.repeat([...secret].length)) : text;
}
