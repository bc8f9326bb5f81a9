// The Redis a benchmark (or the soak) shares with other users of the machine's server: a
// database number of its own, and a ping that says why Redis cannot be used instead of hanging.
import { Redis } from 'ioredis';

/** `redisUrl` on database `db`, unless the URL names one already. */
export function withRedisDb(redisUrl: string, db: number): string {
  const url = new URL(redisUrl);
  if (url.pathname === '' || url.pathname === '/') url.pathname = `/${db}`;
  return url.toString();
}

/** null when Redis answers a PING, else why not. */
export async function pingRedis(redisUrl: string): Promise<string | null> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    redis.disconnect();
  }
}
