// The conversations inbox: one thread per number that replied (from `inboundMessages`, newest
// first, kept current by `inboundMessageReceived`), its opt-out state, the whole exchange both
// ways (`conversation(phone)`), and a reply sent from the page (`sendMessage` to that number,
// from the account's default identity).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { gql, onMessageEvent, subscribe } from '../api.js';
import { addPage, fmtDateTime } from '../i18n.js';
import { failure, Status, useLoad } from '../ui.js';

const tr = addPage('inbox', {
  en: {
    title: 'Conversations', threads: 'Threads', none: 'No replies yet.', optedOut: 'opted out', reply: 'Reply', send: 'Send reply',
    optedOutNote: 'This number opted out: messages to it are refused until it sends START.', sent: 'Sent: {{status}}', them: 'They wrote', us: 'We sent',
    choose: 'Choose a thread.', messages_one: '{{count}} reply', messages_other: '{{count}} replies',
  },
  zh: {
    title: '会话', threads: '会话列表', none: '还没有回复。', optedOut: '已退订', reply: '回复', send: '发送回复',
    optedOutNote: '该号码已退订：在其发送 START 之前，发往它的消息都会被拒绝。', sent: '已发送：{{status}}', them: '对方', us: '我方',
    choose: '请选择一个会话。', messages_one: '{{count}} 条回复', messages_other: '{{count}} 条回复',
  },
});

interface Inbound { id: string; from: string | null; body: string; receivedAt: string; keyword: string | null }
interface Item { direction: string; at: string; node: { __typename: string; id: string; body: string; status?: string } }
const INBOUND = 'id from body receivedAt keyword';
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  ... on SendMessageSuccess { data { id status } } ... on Error { code message } ... on ValidationError { issues { message } } } }`;

function Thread({ phone, optedOut, version }: { phone: string; optedOut: boolean; version: number }) {
  const [tick, setTick] = useState(0);
  const loaded = useLoad(() => gql<{ conversation: { edges: Item[] } }>(`query($phone: String!) { conversation(phone: $phone, first: 100) {
    edges { direction at node { __typename ... on Message { id body status } ... on InboundMessage { id body } } } } }`, { phone }), [phone, version, tick]);
  // Our replies' statuses change live.
  useEffect(() => onMessageEvent<{ to: string }>((m) => void ((!m || m.to === phone) && setTick((n) => n + 1))), [phone]);
  const [body, setBody] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const items = [...(loaded.data?.conversation.edges ?? [])].reverse(); // oldest first, like a chat
  return (
    <div class="thread" data-phone={phone}>
      <h3>{phone} {optedOut && <span class="badge warn-badge" data-testid="opted-out">{tr('optedOut')}</span>}</h3>
      {optedOut && <p class="muted">{tr('optedOutNote')}</p>}
      <Status loaded={loaded} />
      <ol class="chat" data-testid="conversation">
        {items.map((e) => (
          <li key={e.node.id} class={e.direction === 'INBOUND' ? 'them' : 'us'}>
            <span class="muted">{e.direction === 'INBOUND' ? tr('them') : tr('us')} · {fmtDateTime(e.at)}{e.node.status ? ` · ${e.node.status}` : ''}</span>
            <p>{e.node.body}</p>
          </li>
        ))}
      </ol>
      <form id="reply" onSubmit={async (event) => {
        event.preventDefault();
        const r = (await gql(SEND, { input: { to: phone, body } })).sendMessage;
        if (r.data) {
          setBody('');
          setResult({ ok: true, text: tr('sent', { status: r.data.status }) });
          setTick((n) => n + 1);
        } else setResult({ ok: false, text: failure(r) });
      }}>
        <label>{tr('reply')} <textarea name="body" rows={2} required value={body} onInput={(e) => setBody(e.currentTarget.value)} /></label>
        <button type="submit">{tr('send')}</button>
        <p role="status" data-testid="reply-result" class={result ? (result.ok ? 'ok' : 'err') : ''}>{result?.text ?? ''}</p>
      </form>
    </div>
  );
}

export function Inbox() {
  const [version, setVersion] = useState(0);
  const loaded = useLoad(() => gql<{ inboundMessages: { edges: { node: Inbound }[] }; optOuts: { edges: { node: { phone: string } }[] } }>(
    `{ inboundMessages(first: 100) { edges { node { ${INBOUND} } } } optOuts(first: 100) { edges { node { phone } } } }`), [version]);
  useEffect(() => subscribe(`subscription { inboundMessageReceived { id } }`, () => setVersion((n) => n + 1)), []);
  const [selected, setSelected] = useState<string | null>(null);
  const threads = useMemo(() => {
    const byPhone = new Map<string, { last: Inbound; count: number }>();
    for (const { node } of loaded.data?.inboundMessages.edges ?? []) {
      if (!node.from) continue;
      const known = byPhone.get(node.from);
      if (known) known.count++;
      else byPhone.set(node.from, { last: node, count: 1 }); // newest first: the first seen is the latest
    }
    return [...byPhone.entries()];
  }, [loaded.data]);
  const optedOut = new Set(loaded.data?.optOuts.edges.map((e) => e.node.phone));
  return (
    <section class="card wide inbox">
      <h2>{tr('title')}</h2>
      <Status loaded={loaded} />
      <div class="split">
        <nav aria-label={tr('threads')} id="threads">
          {loaded.data && !threads.length && <p class="muted">{tr('none')}</p>}
          {threads.map(([phone, t]) => (
            <button type="button" key={phone} data-phone={phone} aria-pressed={selected === phone} onClick={() => setSelected(phone)}>
              <strong>{phone}</strong>{optedOut.has(phone) && <span class="badge warn-badge">{tr('optedOut')}</span>}
              <span class="muted">{tr('messages', { count: t.count })} · {fmtDateTime(t.last.receivedAt)}</span>
              <span class="snippet">{t.last.body}</span>
            </button>
          ))}
        </nav>
        {selected ? <Thread phone={selected} optedOut={optedOut.has(selected)} version={version} /> : <p class="muted">{tr('choose')}</p>}
      </div>
    </section>
  );
}
