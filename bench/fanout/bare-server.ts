// The fan-out baseline: a bare `ws` server with no GraphQL, no auth and no database. Each
// client sends `{"id": messageId}` once connected (answered `{"id", "status": "SUBSCRIBED"}`);
// the server listens to the same Redis channels Herald does (`message-status:<accountId>`,
// JSON StatusChange payloads) and forwards each payload to the sockets following that message.
// Usage: node --import tsx bench/fanout/bare-server.ts <redisUrl>; prints "listening on <port>".
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const redisUrl = process.argv[2] ?? 'redis://127.0.0.1:6379';
const followers = new Map<string, Set<WebSocket>>();

const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
redis.on('error', (error) => console.error(`redis: ${error.message}`));
await redis.psubscribe('message-status:*');
redis.on('pmessage', (_pattern, _channel, payload: string) => {
  const { id } = JSON.parse(payload) as { id: string };
  const sockets = followers.get(id);
  if (sockets) for (const socket of sockets) socket.send(payload);
});

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('connection', (socket) => {
  let followed: string | undefined;
  socket.on('message', (data) => {
    if (followed) return;
    followed = (JSON.parse(String(data)) as { id: string }).id;
    let sockets = followers.get(followed);
    if (!sockets) followers.set(followed, (sockets = new Set()));
    sockets.add(socket);
    socket.send(JSON.stringify({ id: followed, status: 'SUBSCRIBED' }));
  });
  socket.on('close', () => {
    if (followed) followers.get(followed)?.delete(socket);
  });
});
await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
console.log(`listening on ${(wss.address() as { port: number }).port}`);

const stop = () => {
  for (const client of wss.clients) client.terminate();
  wss.close();
  redis.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
