import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../db/database.js';

/**
 * A per-install secret kept in the database, so every instance on one database shares it.
 * Created on first use; concurrent first uses agree on one value (insert-if-absent, then read).
 */
export async function getOrCreateSecret(prisma: PrismaClient, key: string): Promise<string> {
  const value = randomBytes(32).toString('hex');
  await prisma.$executeRaw`INSERT INTO "Setting" (key, value) VALUES (${key}, ${value}) ON CONFLICT (key) DO NOTHING`;
  const row = await prisma.setting.findUniqueOrThrow({ where: { key } });
  return row.value;
}

export const SIMULATOR_SECRET_KEY = 'simulator.webhookSecret';

export const MESSAGE_SEAL_KEY = 'message.sealKey';

/** The per-install AES-256 key sealing secret message bodies (32 bytes). */
export async function getMessageSealKey(prisma: PrismaClient): Promise<Buffer> {
  return Buffer.from(await getOrCreateSecret(prisma, MESSAGE_SEAL_KEY), 'hex');
}
