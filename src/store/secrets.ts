// Per-install secrets kept in the database (the Setting table), so every instance on one
// database shares them: created on first use, and concurrent first uses agree on one value
// (insert-if-absent, then read). A secret never changes once created, so this store reads each
// one once and keeps it (a failed read is not kept).
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../db/database.js';

export interface SecretStore {
  /** The secret named `name` (64 hex digits: 32 random bytes), created if absent. */
  getOrCreate(name: string): Promise<string>;
}

export function createSecretStore(prisma: PrismaClient): SecretStore {
  const known = new Map<string, Promise<string>>();

  async function read(name: string): Promise<string> {
    const value = randomBytes(32).toString('hex');
    await prisma.$executeRaw`INSERT INTO "Setting" (key, value) VALUES (${name}, ${value}) ON CONFLICT (key) DO NOTHING`;
    return (await prisma.setting.findUniqueOrThrow({ where: { key: name } })).value;
  }

  return {
    getOrCreate(name) {
      let secret = known.get(name);
      if (!secret) {
        secret = read(name);
        known.set(name, secret);
        secret.catch(() => known.delete(name));
      }
      return secret;
    },
  };
}
