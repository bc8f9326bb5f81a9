import type { PrismaClient } from '../db/database.js';
import { getOrCreateSecret } from './settings.js';

export const VERIFICATION_KEY_SETTING = 'verification.hmacKey';

// The key never changes once created, so each process reads it once per database.
const keys = new WeakMap<PrismaClient, Promise<Buffer>>();

/** The per-install HMAC key for verification codes, shared by every instance on the database. */
export function verificationKey(prisma: PrismaClient): Promise<Buffer> {
  let key = keys.get(prisma);
  if (!key) {
    key = getOrCreateSecret(prisma, VERIFICATION_KEY_SETTING).then((hex) => Buffer.from(hex, 'hex'));
    keys.set(prisma, key);
    key.catch(() => keys.delete(prisma));
  }
  return key;
}
