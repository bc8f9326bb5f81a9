// The message log: filters (recipient, body text, status, date range, template, batch,
// provider), cursor pagination, CSV export of the whole filter, live changes over `messageEvents`, and a message's detail (timeline, raw provider
// codes, costs, routing decision).
import { useEffect, useRef, useState } from 'preact/hooks';
import { gql, onMessageEvent } from '../api.js';
import { addPage, fmtDateTime, fmtMoney, fmtPercent, fmtTime } from '../i18n.js';
import { toCsv } from '../csv.js';
import { Status, useLoad } from '../ui.js';

const tr = addPage('messages', {
  en: {
    title: 'Messages', filters: 'Filters', to: 'Recipient', search: 'Text contains', status: 'Status', any: 'Any', from: 'From', until: 'Until',
    template: 'Template', batch: 'Batch id', provider: 'Provider', apply: 'Apply', reset: 'Reset', exportCsv: 'Export CSV',
    exporting: 'Exporting… {{count}} rows', exported: '{{count}} rows exported', created: 'Created', segments: 'Segments', body: 'Body',
    details: 'Details of the message to {{to}}', newer: 'Newer', older: 'Older', none: 'No message matches.', close: 'Close',
    timeline: 'Timeline', estimatedCost: 'Estimated cost', actualCost: 'Actual cost', routing: 'Routing decision', notRouted: 'Not routed yet.',
    candidate: 'Candidate', eligible: 'Eligible', reason: 'Reason', deliveryRate: 'Delivery rate', samples: 'Samples', providerId: 'Provider message id',
    error: 'Error', notFound: 'Message not found.', yes: 'yes', no: 'no', page: 'Page {{n}}',
  },
  zh: {
    title: '消息记录', filters: '筛选', to: '接收号码', search: '内容包含', status: '状态', any: '全部', from: '开始日期', until: '结束日期',
    template: '模板', batch: '批次 ID', provider: '通道',
    QUEUED: '排队中', SCHEDULED: '定时', SENDING: '发送中', SENT: '已发送', DELIVERED: '已送达', UNDELIVERED: '未送达', FAILED: '失败',
    REJECTED: '被拒绝', EXPIRED: '已过期', CANCELED: '已取消', apply: '查询', reset: '重置', exportCsv: '导出 CSV',
    exporting: '正在导出… {{count}} 条', exported: '已导出 {{count}} 条', created: '创建时间', segments: '条数', body: '内容',
    details: '发往 {{to}} 的消息详情', newer: '上一页', older: '下一页', none: '没有符合条件的消息。', close: '关闭',
    timeline: '状态时间线', estimatedCost: '预估费用', actualCost: '实际费用', routing: '路由决策', notRouted: '尚未路由。',
    candidate: '候选通道', eligible: '可用', reason: '原因', deliveryRate: '送达率', samples: '样本数', providerId: '通道消息 ID',
    error: '错误', notFound: '找不到该消息。', yes: '是', no: '否', page: '第 {{n}} 页',
  },
});

export const MESSAGE_FIELDS = 'id to status provider segments body createdAt updatedAt batchId template { id name }';
/** A status for display: the API's code in English, a word in Chinese (the code stays in data-status). */
export const statusLabel = (status: string): string => tr(status, { defaultValue: status });
export const STATUSES = ['QUEUED', 'SCHEDULED', 'SENDING', 'SENT', 'DELIVERED', 'UNDELIVERED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELED'];
const PAGE_SIZE = 25;

export interface Row {
  id: string; to: string; status: string; provider: string | null; segments: number; body: string;
  createdAt: string; updatedAt: string; batchId: string | null; template: { id: string; name: string } | null;
}
interface Filter { to?: string; search?: string; status?: string; from?: string; until?: string; templateId?: string; batchId?: string; provider?: string }

/** The form's fields as the API's MessageFilter (dates are whole local days). */
export function apiFilter(f: Filter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.to) out.to = f.to;
  if (f.search) out.search = f.search;
  if (f.status) out.status = [f.status];
  if (f.templateId) out.templateId = f.templateId;
  if (f.batchId) out.batchId = f.batchId;
  if (f.provider) out.provider = f.provider;
  if (f.from) out.createdAfter = new Date(`${f.from}T00:00:00`).toISOString();
  if (f.until) out.createdBefore = new Date(new Date(`${f.until}T00:00:00`).getTime() + 86_400_000).toISOString();
  return out;
}

const LIST = `query($filter: MessageFilter, $first: Int, $after: String, $last: Int, $before: String) {
  messages(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    edges { node { ${MESSAGE_FIELDS} } } pageInfo { startCursor endCursor hasNextPage hasPreviousPage }
  } }`;
interface Page { rows: Row[]; pageInfo: { startCursor: string | null; endCursor: string | null; hasNextPage: boolean; hasPreviousPage: boolean } }

async function fetchPage(filter: Filter, cursor: { after?: string; before?: string }): Promise<Page> {
  const vars = cursor.before ? { last: PAGE_SIZE, before: cursor.before } : { first: PAGE_SIZE, after: cursor.after };
  const data = await gql<{ messages: { edges: { node: Row }[]; pageInfo: Page['pageInfo'] } }>(LIST, { filter: apiFilter(filter), ...vars });
  return { rows: data.messages.edges.map((e) => e.node), pageInfo: data.messages.pageInfo };
}

function FilterForm({ value, onApply, templates }: { value: Filter; onApply: (f: Filter) => void; templates: { id: string; name: string }[] }) {
  return (
    // Uncontrolled fields (a controlled one would be reset by every live re-render while typing);
    // keyed by the filter applied, so Reset and Apply redraw them from it.
    <form key={JSON.stringify(value)} id="message-filters" class="filters" aria-label={tr('filters')} onSubmit={(e) => {
      e.preventDefault();
      const fields = Object.fromEntries([...new FormData(e.currentTarget)].map(([k, v]) => [k, String(v).trim()]).filter(([, v]) => v)) as Filter;
      onApply(fields);
    }}>
      <label>{tr('to')} <input name="to" type="search" defaultValue={value.to ?? ''} placeholder="+8613800138000" /></label>
      <label>{tr('search')} <input name="search" type="search" defaultValue={value.search ?? ''} /></label>
      <label>{tr('status')}
        <select name="status" defaultValue={value.status ?? ''}>
          <option value="">{tr('any')}</option>
          {STATUSES.map((s) => <option key={s} value={s}>{statusLabel(s)}</option>)}
        </select>
      </label>
      <label>{tr('from')} <input name="from" type="date" defaultValue={value.from ?? ''} /></label>
      <label>{tr('until')} <input name="until" type="date" defaultValue={value.until ?? ''} /></label>
      <label>{tr('template')}
        <select name="templateId" defaultValue={value.templateId ?? ''}>
          <option value="">{tr('any')}</option>
          {templates.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
        </select>
      </label>
      <label>{tr('batch')} <input name="batchId" defaultValue={value.batchId ?? ''} /></label>
      <label>{tr('provider')} <input name="provider" defaultValue={value.provider ?? ''} /></label>
      <div class="actions">
        <button type="submit">{tr('apply')}</button>
        <button type="reset" onClick={(e) => { e.preventDefault(); onApply({}); }}>{tr('reset')}</button>
      </div>
    </form>
  );
}

interface Detail {
  to: string; from: string | null; status: string; body: string; provider: string | null; providerMessageId: string | null;
  errorCode: string | null; errorMessage: string | null; segments: number; encoding: string;
  estimatedCost: { amount: string; currency: string } | null; actualCost: { amount: string; currency: string } | null;
  routing: { summary: string; strategy: string; chosen: string; route: string | null; explored: boolean;
    candidates: { provider: string; eligible: boolean; reason: string | null; deliveryRate: number | null; samples: number; estimatedCost: { amount: string; currency: string } | null }[] } | null;
  events: { status: string; at: string; source: string; provider: string | null; rawStatus: string | null; errorCode: string | null }[];
}
const DETAIL = `query($id: ID!) { message(id: $id) {
  to from status body provider providerMessageId errorCode errorMessage segments encoding
  estimatedCost { amount currency } actualCost { amount currency }
  routing { summary strategy chosen route explored candidates { provider eligible reason deliveryRate samples estimatedCost { amount currency } } }
  events { status at source provider rawStatus errorCode }
} }`;

function MessageDetail({ id, version, onClose }: { id: string; version: string; onClose: () => void }) {
  const loaded = useLoad(() => gql<{ message: Detail | null }>(DETAIL, { id }), [id, version]);
  const m = loaded.data?.message;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [id, !!m]);
  return (
    <section id="timeline" class="detail" aria-live="polite">
      <Status loaded={loaded} />
      {loaded.data && !m && <p class="muted">{tr('notFound')}</p>}
      {m && (
        <>
          <h3 tabIndex={-1} ref={heading}>{tr('details', { to: m.to })}</h3>
          <dl class="facts">
            <dt>{tr('status')}</dt><dd class={`status status-${m.status}`}>{statusLabel(m.status)}</dd>
            <dt>{tr('provider')}</dt><dd>{m.provider ?? ''}</dd>
            <dt>{tr('providerId')}</dt><dd><code>{m.providerMessageId ?? ''}</code></dd>
            <dt>{tr('segments')}</dt><dd>{m.segments} · {m.encoding}</dd>
            <dt>{tr('estimatedCost')}</dt><dd data-testid="estimated-cost">{fmtMoney(m.estimatedCost)}</dd>
            <dt>{tr('actualCost')}</dt><dd data-testid="actual-cost">{fmtMoney(m.actualCost)}</dd>
            {m.errorCode && <><dt>{tr('error')}</dt><dd class="err">{m.errorCode}{m.errorMessage ? ` · ${m.errorMessage}` : ''}</dd></>}
          </dl>
          <h4>{tr('timeline')}</h4>
          <ol data-testid="timeline">
            {m.events.map((e, i) => (
              <li key={i}>
                <strong class={`status-${e.status}`}>{statusLabel(e.status)}</strong>{` ${fmtTime(e.at)} · ${e.source}`}
                {e.provider ? ` · ${e.provider}` : ''}{e.rawStatus ? ` · "${e.rawStatus}"` : ''}
                {e.errorCode && <span class="err">{` · ${e.errorCode}`}</span>}
              </li>
            ))}
          </ol>
          <h4>{tr('routing')}</h4>
          {!m.routing ? <p class="muted">{tr('notRouted')}</p> : (
            <div data-testid="routing">
              <p>{m.routing.summary}</p>
              <div class="scroll">
                <table>
                  <thead><tr><th>{tr('candidate')}</th><th>{tr('eligible')}</th><th>{tr('deliveryRate')}</th><th>{tr('samples')}</th><th>{tr('estimatedCost')}</th><th>{tr('reason')}</th></tr></thead>
                  <tbody>
                    {m.routing.candidates.map((c) => (
                      <tr key={c.provider} class={c.provider === m.routing!.chosen ? 'selected' : ''}>
                        <td>{c.provider}</td><td>{c.eligible ? tr('yes') : tr('no')}</td><td>{fmtPercent(c.deliveryRate)}</td>
                        <td>{c.samples}</td><td>{fmtMoney(c.estimatedCost)}</td><td>{c.reason ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          )}
          <button type="button" onClick={onClose}>{tr('close')}</button>
        </>
      )}
    </section>
  );
}

export function Messages() {
  const [filter, setFilter] = useState<Filter>({});
  const [cursor, setCursor] = useState<{ after?: string; before?: string }>({});
  const [pageNo, setPageNo] = useState(1);
  const [rows, setRows] = useState<Row[]>([]);
  const [flash, setFlash] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<string | null>(null);
  const [csvState, setCsvState] = useState('');
  const loaded = useLoad(() => fetchPage(filter, cursor), [filter, cursor]);
  const templates = useLoad(() => gql<{ templates: { edges: { node: { id: string; name: string } }[] } }>('{ templates(first: 100) { edges { node { id name } } } }')
    .then((d) => d.templates.edges.map((e) => e.node)), []);
  useEffect(() => void (loaded.data && setRows(loaded.data.rows)), [loaded.data]);

  // Live: a row shown is changed in place; a new message goes on top of the first page when it
  // fits the filter (status/recipient checked here, the rest by reloading the page).
  const live = useRef({ filter, first: pageNo === 1, reload: loaded.reload });
  live.current = { filter, first: pageNo === 1, reload: loaded.reload };
  useEffect(() => onMessageEvent<Row>((m) => {
    const { filter: f, first, reload } = live.current;
    if (!m) return reload(); // (re)connected: catch up
    setRows((current) => {
      const i = current.findIndex((r) => r.id === m.id);
      if (i >= 0) {
        if (current[i].updatedAt > m.updatedAt) return current; // an older snapshot never wins
        if (current[i].status !== m.status) setFlash((s) => new Set(s).add(m.id));
        return current.map((r) => (r.id === m.id ? m : r));
      }
      const plain = !f.search && !f.from && !f.until && !f.templateId && !f.batchId && !f.to && !f.provider;
      if (!first) return current;
      if (!plain) { reload(); return current; }
      if (f.status && f.status !== m.status) return current;
      return [m, ...current].slice(0, PAGE_SIZE);
    });
  }), []);

  const info = loaded.data?.pageInfo;

  const exportCsv = async () => {
    const all: Row[] = [];
    let after: string | undefined;
    // The whole filter, page by page (100 at a time, at most 100,000 rows).
    for (let i = 0; i < 1000; i++) {
      const data = await gql<{ messages: { edges: { node: Row }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } }>(LIST, { filter: apiFilter(filter), first: 100, after });
      all.push(...data.messages.edges.map((e) => e.node));
      setCsvState(tr('exporting', { count: all.length }));
      if (!data.messages.pageInfo.hasNextPage || !data.messages.pageInfo.endCursor) break;
      after = data.messages.pageInfo.endCursor;
    }
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([toCsv(all)], { type: 'text/csv;charset=utf-8' }));
    link.download = `herald-messages-${new Date().toISOString().slice(0, 10)}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    setCsvState(tr('exported', { count: all.length }));
  };

  const selectedRow = rows.find((r) => r.id === selected);
  return (
    <section class="card wide">
      <h2>{tr('title')}</h2>
      {/* Folded on phones (the fields would fill the screen), open elsewhere. */}
      <details class="filter-box" open={!matchMedia('(max-width: 700px)').matches}>
        <summary>{tr('filters')}</summary>
        <FilterForm value={filter} templates={templates.data ?? []} onApply={(f) => { setFilter(f); setCursor({}); setPageNo(1); }} />
      </details>
      <div class="toolbar">
        <button type="button" id="export-csv" onClick={() => void exportCsv().catch((e: Error) => setCsvState(e.message))}>{tr('exportCsv')}</button>
        <span role="status" data-testid="csv-status">{csvState}</span>
      </div>
      <Status loaded={loaded} />
      <div class="scroll">
        <table id="messages">
          <thead><tr><th>{tr('created')}</th><th>{tr('to')}</th><th>{tr('status')}</th><th>{tr('provider')}</th><th>{tr('segments')}</th><th>{tr('body')}</th></tr></thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.id} data-id={m.id} class={`${selected === m.id ? 'selected' : ''} ${flash.has(m.id) ? 'flash' : ''}`} onClick={() => setSelected(m.id)}>
                <td>{fmtDateTime(m.createdAt)}</td>
                <td><button type="button" class="link" aria-label={tr('details', { to: m.to })}>{m.to}</button></td>
                <td class={`status status-${m.status}`} data-testid="status" data-status={m.status}>{statusLabel(m.status)}</td>
                <td>{m.provider ?? ''}</td>
                <td>{m.segments}</td>
                <td class="body" title={m.body}>{m.body}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {loaded.data && !rows.length && <p class="muted">{tr('none')}</p>}
      <div class="pager">
        <button type="button" disabled={loaded.loading || pageNo === 1 || !info?.startCursor} onClick={() => { setCursor({ before: info!.startCursor! }); setPageNo((n) => n - 1); }}>{tr('newer')}</button>
        <span>{tr('page', { n: pageNo })}</span>
        <button type="button" disabled={loaded.loading || !info?.hasNextPage || !info.endCursor} onClick={() => { setCursor({ after: info!.endCursor! }); setPageNo((n) => n + 1); }}>{tr('older')}</button>
      </div>
      {selected && <MessageDetail id={selected} version={selectedRow?.updatedAt ?? ''} onClose={() => setSelected(null)} />}
    </section>
  );
}
