// A raw graphql-ws socket (no client library, so the test sees exactly how the server closes it).
import { expect } from 'vitest';
import WebSocket from 'ws';

export interface SubscribedSocket {
  socket: WebSocket;
  /** Resolves with the close code and reason when the server (or the test) closes the socket. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Connects with `key`, checks the ack, and starts one subscription (messageEvents). */
export async function openSubscribedSocket(graphqlUrl: string, key: string): Promise<SubscribedSocket> {
  const socket = new WebSocket(graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
  const ack = await new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())));
  expect(JSON.parse(ack).type).toBe('connection_ack');
  socket.send(JSON.stringify({ id: 's1', type: 'subscribe', payload: { query: 'subscription { messageEvents { id status } }' } }));
  return { socket, closed };
}
