// The live message table: the 50 newest from `messages`, then kept current by `messageEvents`
// (a new message is inserted on top, a known one has its status cell changed in place).
import { gql, wsClient } from './api.js';
import { $, h, time } from './dom.js';

const FIELDS = 'id to status provider segments body createdAt updatedAt';
interface Row { id: string; to: string; status: string; provider: string | null; segments: number; body: string; createdAt: string; updatedAt: string }

const rows = new Map<string, { el: HTMLTableRowElement; updatedAt: string }>();
let selected: string | null = null;
let changed: () => void = () => undefined;

function render(m: Row): HTMLTableRowElement {
  return h('tr', { 'data-id': m.id },
    h('td', {}, time(m.createdAt)),
    h('td', {}, m.to),
    h('td', { class: `status status-${m.status}`, 'data-testid': 'status' }, m.status),
    h('td', {}, m.provider ?? ''),
    h('td', {}, m.segments),
    h('td', { class: 'body', title: m.body }, m.body));
}

/** Inserts or updates one message; an older snapshot never overwrites a newer one. */
function upsert(m: Row, prepend: boolean): void {
  const known = rows.get(m.id);
  if (known && known.updatedAt > m.updatedAt) return;
  const el = render(m);
  if (known) {
    known.el.replaceWith(el);
    if (known.el.classList.contains('selected')) el.classList.add('selected');
  } else {
    const body = $('#messages tbody');
    if (prepend) body.prepend(el);
    else body.append(el);
  }
  if (known && known.el.querySelector('.status')?.textContent !== m.status) el.classList.add('flash');
  rows.set(m.id, { el, updatedAt: m.updatedAt });
  if (selected === m.id) void showTimeline(m.id);
  changed();
}

async function loadRecent(): Promise<void> {
  const data = await gql<{ messages: { edges: { node: Row }[] } }>(`{ messages(first: 50) { edges { node { ${FIELDS} } } } }`);
  // Oldest first, each prepended, so the newest ends on top and live ones keep their place.
  for (const { node } of [...data.messages.edges].reverse()) upsert(node, !rows.has(node.id));
}

export async function showTimeline(id: string): Promise<void> {
  selected = id;
  for (const [key, { el }] of rows) el.classList.toggle('selected', key === id);
  const data = await gql<{ message: { to: string; status: string; events: { status: string; at: string; source: string; provider: string | null; rawStatus: string | null; errorCode: string | null }[] } | null }>(
    `query($id: ID!) { message(id: $id) { to status events { status at source provider rawStatus errorCode } } }`, { id });
  const panel = $('#timeline');
  panel.hidden = false;
  if (!data.message) return void panel.replaceChildren(h('p', { class: 'muted' }, 'Message not found.'));
  panel.replaceChildren(
    h('h3', {}, `Timeline of the message to ${data.message.to}`),
    h('ol', { 'data-testid': 'timeline' }, ...data.message.events.map((e) =>
      h('li', {}, h('strong', { class: `status-${e.status}` }, e.status), ` ${time(e.at)} · ${e.source}`,
        e.provider ? ` · ${e.provider}` : '', e.rawStatus ? ` · "${e.rawStatus}"` : '',
        e.errorCode ? h('span', { class: 'err' }, ` · ${e.errorCode}`) : ''))));
}

/** `onChange` runs after every new or changed message (the stats refresh on it). */
export function startMessages(onLive: (live: boolean) => void, onChange: () => void): void {
  changed = onChange;
  $('#messages tbody').addEventListener('click', (event) => {
    const row = (event.target as Element).closest('tr');
    if (row?.dataset.id) void showTimeline(row.dataset.id);
  });
  const client = wsClient((live) => {
    onLive(live);
    // On every (re)connection, catch up on what happened while the socket was down.
    if (live) void loadRecent().catch(() => undefined);
  });
  client.subscribe<{ messageEvents: Row }>({ query: `subscription { messageEvents { ${FIELDS} } }` }, {
    next: ({ data }) => data && upsert(data.messageEvents, true),
    error: () => onLive(false),
    complete: () => undefined,
  });
  void loadRecent();
}
