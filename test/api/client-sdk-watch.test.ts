// SMSClient's subscriptions: watch() yields a message's statuses to the final one and resumes
// across a dropped socket without losing a transition; events() and inbound(); tokens over the
// socket; failures as HeraldApiError. The socket goes through a TCP relay the test can cut, as a
// server restart or a network drop would.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeraldApiError, SMSClient, type Message } from '../../src/client/index.js';
import type { TestHerald } from '../support/herald.js';
import { DEFAULT_BEHAVIOUR, simulatorOf, startDeliveryHerald, waitFor } from '../support/delivery.js';

let t: TestHerald;
const clients: SMSClient[] = [];
beforeAll(async () => {
  t = await startDeliveryHerald();
});
afterEach(async () => {
  t.herald.dispatcher!.start();
  simulatorOf(t).configure(DEFAULT_BEHAVIOUR);
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => t?.stop());

function client(options: ConstructorParameters<typeof SMSClient>[0]): SMSClient {
  const c = new SMSClient(options);
  clients.push(c);
  return c;
}

/** A TCP relay to Herald: `cut()` drops every open connection; while `down`, new ones are dropped at once. */
async function relay(target: string) {
  const { port } = new URL(target);
  const open = new Set<net.Socket>();
  let connections = 0;
  let down = false;
  const server = net.createServer((inbound) => {
    connections += 1;
    if (down) return inbound.destroy();
    const outbound = net.connect(Number(port), '127.0.0.1');
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {});
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/graphql`,
    get connections() {
      return connections;
    },
    cut(stayDown: boolean) {
      down = stayDown;
      for (const s of open) s.destroy();
    },
    up() {
      down = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Subscriptions open on Herald's sockets, from its /metrics. */
async function subscriptionsOpen(): Promise<number> {
  const text = await (await fetch(new URL('/metrics', t.url))).text();
  return Number(/^herald_subscriptions (\d+)/m.exec(text)?.[1]);
}

/** Runs the loop in the background, recording what it yields and how it ended. */
function follow(iterable: AsyncIterable<Message>) {
  const statuses: string[] = [];
  const done = (async () => {
    for await (const m of iterable) statuses.push(m.status);
  })();
  return { statuses, done };
}

describe('SMSClient.watch', () => {
  it('yields each status from the current one to DELIVERED, then ends', async () => {
    const { senderKey } = await t.seedAccount();
    const sms = client({ url: t.url, apiKey: senderKey });
    // The report comes well after SENT, so SENT is a status of its own.
    simulatorOf(t).configure({ reportDelayMs: 300 });
    await t.herald.dispatcher!.stop();
    const message = await sms.sendSMS({ to: '+14155550100', message: 'watch me' });
    const watching = follow(sms.watch(message.id));
    await waitFor(() => watching.statuses.length === 1, { what: 'the current state' });
    t.herald.dispatcher!.start();
    await watching.done;
    expect(watching.statuses).toEqual(['QUEUED', 'SENDING', 'SENT', 'DELIVERED']);
  });

  it('resumes after the socket is dropped: a status reached while disconnected is yielded on reconnection, none twice', async () => {
    const { senderKey } = await t.seedAccount();
    const proxy = await relay(t.url);
    try {
      const sms = client({ url: proxy.url, apiKey: senderKey });
      await t.herald.dispatcher!.stop();
      const message = await sms.sendSMS({ to: '+14155550100', message: 'across a drop' });
      const watching = follow(sms.watch(message.id));
      await waitFor(() => watching.statuses.length === 1, { what: 'the current state' });
      // Drop the socket and refuse reconnections until the message is DELIVERED: every
      // transition after QUEUED happens while the client is disconnected.
      proxy.cut(true);
      t.herald.dispatcher!.start();
      const direct = client({ url: t.url, apiKey: senderKey });
      await waitFor(async () => (await direct.getMessage(message.id))?.status === 'DELIVERED', { what: 'DELIVERED stored' });
      expect(watching.statuses).toEqual(['QUEUED']);
      proxy.up();
      await watching.done;
      expect(watching.statuses).toEqual(['QUEUED', 'DELIVERED']);
      expect(proxy.connections).toBeGreaterThan(2);
    } finally {
      await proxy.close();
    }
  });

  it('does not yield the same status twice when the socket drops right after a yield', async () => {
    const { senderKey } = await t.seedAccount();
    const proxy = await relay(t.url);
    try {
      const sms = client({ url: proxy.url, apiKey: senderKey });
      simulatorOf(t).configure({ reportDelayMs: 1_500 });
      const message = await sms.sendSMS({ to: '+14155550100', message: 'drop after SENT' });
      const watching = follow(sms.watch(message.id));
      await waitFor(() => watching.statuses.includes('SENT'), { what: 'SENT' });
      // Reconnection at once: the resubscription starts with SENT again, which is not repeated.
      proxy.cut(false);
      await watching.done;
      expect(watching.statuses.at(-1)).toBe('DELIVERED');
      expect(new Set(watching.statuses).size).toBe(watching.statuses.length);
      expect(watching.statuses).toContain('SENT');
    } finally {
      await proxy.close();
    }
  });

  it('works with an access token, and rejects with FORBIDDEN for a message outside its scope', async () => {
    const { senderKey } = await t.seedAccount();
    const backend = client({ url: t.url, apiKey: senderKey });
    const [granted, other] = await Promise.all([backend.sendSMS({ to: '+14155550100', message: 'a' }), backend.sendSMS({ to: '+14155550100', message: 'b' })]);
    const { token } = await backend.createAccessToken({ messages: [granted.id], ttlSeconds: 60 });
    const page = client({ url: t.url, token });
    const watched = follow(page.watch(granted.id));
    await watched.done;
    expect(watched.statuses.at(-1)).toBe('DELIVERED');
    const refused = await follow(page.watch(other.id)).done.catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HeraldApiError);
    expect(refused).toMatchObject({ code: 'FORBIDDEN' });
  });

  it("rejects with NOT_FOUND for another account's message, FORBIDDEN for a wrong key and UNAUTHENTICATED for a tampered token, without retrying", async () => {
    const owner = await t.seedAccount();
    const stranger = await t.seedAccount();
    const message = await client({ url: t.url, apiKey: owner.senderKey }).sendSMS({ to: '+14155550100', message: 'mine' });
    const notFound = await follow(client({ url: t.url, apiKey: stranger.senderKey }).watch(message.id)).done.catch((e: unknown) => e);
    expect(notFound).toMatchObject({ name: 'HeraldApiError', code: 'NOT_FOUND' });

    const started = Date.now();
    const bad = await follow(client({ url: t.url, apiKey: 'hk_aaaaaaaaaa_' + 'C'.repeat(43) }).watch(message.id)).done.catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'HeraldApiError', code: 'FORBIDDEN', details: { closeCode: 4403 } });
    const { token } = await client({ url: t.url, apiKey: owner.senderKey }).createAccessToken({ messages: [message.id] });
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const refused = await follow(client({ url: t.url, token: tampered }).watch(message.id)).done.catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'HeraldApiError', code: 'UNAUTHENTICATED', details: { closeCode: 4401 } });
    // Neither is retried (a first retry waits 250 ms at least, and the attempts add up to seconds).
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('SMSClient.events and inbound', () => {
  it('events() yields the transitions of the filter only; breaking out ends the subscription', async () => {
    const { senderKey } = await t.seedAccount();
    const sms = client({ url: t.url, apiKey: senderKey });
    const seen: Message[] = [];
    const done = (async () => {
      for await (const m of sms.events({ status: ['DELIVERED'] })) {
        seen.push(m);
        if (seen.length === 2) break;
      }
    })();
    // The subscription is made once the socket is up: wait for it before sending.
    await waitFor(async () => (await subscriptionsOpen()) === 1, { what: 'the subscription' });
    const sent = await Promise.all([sms.sendSMS({ to: '+14155550100', message: 'one' }), sms.sendSMS({ to: '+14155550101', message: 'two' })]);
    await done;
    expect(seen.map((m) => m.status)).toEqual(['DELIVERED', 'DELIVERED']);
    expect(seen.map((m) => m.id).sort()).toEqual(sent.map((m) => m.id).sort());
    await waitFor(async () => (await subscriptionsOpen()) === 0, { what: 'the subscription ended on the server' });
  });

  it('inbound() yields a reply as it is stored', async () => {
    const { adminKey } = await t.seedAccount();
    const sms = client({ url: t.url, apiKey: adminKey });
    const number = await sms.addSenderIdentity('+14155550199');
    const received: string[] = [];
    const done = (async () => {
      for await (const m of sms.inbound()) {
        received.push(`${m.from}:${m.body}`);
        break;
      }
    })();
    await waitFor(async () => (await subscriptionsOpen()) === 1, { what: 'the subscription' });
    const stored = await sms.simulateInboundMessage({ from: '+14155550123', to: number.value, body: 'hello back' });
    await done;
    expect(received).toEqual(['+14155550123:hello back']);
    expect((await sms.inboundMessages()).items.map((m) => m.id)).toEqual([stored.id]);
  });

  it('events() yields what changed while disconnected on reconnection, then live transitions, none twice', async () => {
    const { senderKey } = await t.seedAccount();
    const proxy = await relay(t.url);
    try {
      const sms = client({ url: proxy.url, apiKey: senderKey });
      const direct = client({ url: t.url, apiKey: senderKey });
      const seen: Message[] = [];
      const done = (async () => {
        for await (const m of sms.events()) {
          seen.push(m);
          if (seen.filter((s) => s.status === 'DELIVERED').length === 4) break;
        }
      })();
      const delivered = (id: string) => seen.some((m) => m.id === id && m.status === 'DELIVERED');
      await waitFor(async () => (await subscriptionsOpen()) === 1, { what: 'the subscription' });
      const first = await direct.sendSMS({ to: '+14155550100', message: 'before the drop' });
      await waitFor(() => delivered(first.id), { what: 'the first message delivered, live' });
      // Down while two messages go all the way to DELIVERED: nothing of them is seen live.
      proxy.cut(true);
      const missed = await Promise.all([direct.sendSMS({ to: '+14155550101', message: 'missed 1' }), direct.sendSMS({ to: '+14155550102', message: 'missed 2' })]);
      for (const m of missed) await waitFor(async () => (await direct.getMessage(m.id))?.status === 'DELIVERED', { what: 'DELIVERED stored' });
      expect(seen.some((m) => missed.some((x) => x.id === m.id))).toBe(false);
      proxy.up();
      await waitFor(() => missed.every((m) => delivered(m.id)), { what: 'the missed messages caught up' });
      const after = await direct.sendSMS({ to: '+14155550103', message: 'after the drop' });
      await done;
      const keys = seen.map((m) => `${m.id}:${m.status}`);
      expect(new Set(keys).size, keys.join(' ')).toBe(keys.length);
      // Caught up in their current state, once each; the one sent afterwards moves live again.
      for (const m of missed) expect(seen.filter((s) => s.id === m.id).map((s) => s.status)).toEqual(['DELIVERED']);
      expect(seen.filter((s) => s.id === after.id).map((s) => s.status)).toEqual(['QUEUED', 'SENDING', 'SENT', 'DELIVERED']);
      expect(proxy.connections).toBeGreaterThan(1);
    } finally {
      await proxy.close();
    }
  });

  it('events() neither loses nor doubles a transition when the socket drops while messages move', async () => {
    const { senderKey } = await t.seedAccount();
    const proxy = await relay(t.url);
    try {
      const sms = client({ url: proxy.url, apiKey: senderKey });
      const direct = client({ url: t.url, apiKey: senderKey });
      simulatorOf(t).configure({ reportDelayMs: 400 });
      const seen: Message[] = [];
      const done = (async () => {
        for await (const m of sms.events({ status: ['DELIVERED'] })) {
          seen.push(m);
          if (seen.length === 6) break;
        }
      })();
      await waitFor(async () => (await subscriptionsOpen()) === 1, { what: 'the subscription' });
      const sent = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => direct.sendSMS({ to: `+1415555011${i}`, message: `m${i}` })));
      // Reconnection at once, while reports are on their way: some arrive live, some in the catch-up, some in both.
      await new Promise((resolve) => setTimeout(resolve, 350));
      proxy.cut(false);
      await done;
      expect(seen.map((m) => m.id).sort()).toEqual(sent.map((m) => m.id).sort());
      expect(seen.every((m) => m.status === 'DELIVERED')).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("events() with a token catches up on its batch (the token may list its batch's messages)", async () => {
    const { senderKey } = await t.seedAccount();
    const proxy = await relay(t.url);
    try {
      const backend = client({ url: t.url, apiKey: senderKey });
      await t.herald.dispatcher!.stop();
      const { batchId } = await backend.sendBulk({ message: 'batch', recipients: [{ to: '+14155550120' }, { to: '+14155550121' }] });
      const { token } = await backend.createAccessToken({ batch: batchId, ttlSeconds: 120 });
      const page = client({ url: proxy.url, token });
      const seen: Message[] = [];
      const done = (async () => {
        for await (const m of page.events({ batchId, status: ['DELIVERED'] })) {
          seen.push(m);
          if (seen.length === 2) break;
        }
      })();
      await waitFor(async () => (await subscriptionsOpen()) === 1, { what: 'the subscription' });
      proxy.cut(true);
      t.herald.dispatcher!.start();
      await waitFor(async () => (await backend.getBatch(batchId))?.counts.DELIVERED === 2, { what: 'the batch delivered' });
      expect(seen).toEqual([]);
      proxy.up();
      await done;
      expect(seen.map((m) => m.status)).toEqual(['DELIVERED', 'DELIVERED']);
      expect(new Set(seen.map((m) => m.id)).size).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('inbound() yields the replies stored while disconnected on reconnection, oldest first, none twice', async () => {
    const { adminKey } = await t.seedAccount();
    const proxy = await relay(t.url);
    try {
      const sms = client({ url: proxy.url, apiKey: adminKey });
      const direct = client({ url: t.url, apiKey: adminKey });
      const number = await direct.addSenderIdentity('+14155550198');
      const reply = (body: string) => direct.simulateInboundMessage({ from: '+14155550123', to: number.value, body });
      const received: string[] = [];
      const done = (async () => {
        for await (const m of sms.inbound()) {
          received.push(m.body);
          if (received.length === 4) break;
        }
      })();
      await waitFor(async () => (await subscriptionsOpen()) === 1, { what: 'the subscription' });
      await reply('live 1');
      await waitFor(() => received.length === 1, { what: 'the first reply, live' });
      proxy.cut(true);
      await reply('missed 1');
      await reply('missed 2');
      expect(received).toEqual(['live 1']);
      proxy.up();
      await waitFor(() => received.length === 3, { what: 'the missed replies caught up' });
      await reply('live 2');
      await done;
      expect(received).toEqual(['live 1', 'missed 1', 'missed 2', 'live 2']);
    } finally {
      await proxy.close();
    }
  });
});
