// The client a store function runs on: the store's own, or the transaction a caller opened
// (statements that must commit together, e.g. an idempotency key and its message).
import type { PrismaClient } from '../db/database.js';
import type { Prisma } from '../generated/prisma/client.js';

export type Tx = Prisma.TransactionClient;
export type Db = PrismaClient | Tx;
