// The account's lists: opt-outs (add, remove), sender identities (add, remove; ADMIN), outgoing
// webhook endpoints with each one's delivery log, and verifications (statuses and attempts, never
// codes); a FAILED webhook delivery can be retried (`retryWebhookDelivery`).
import { useState } from 'preact/hooks';
import { gql } from '../api.js';
import { addPage, fmtDateTime, t } from '../i18n.js';
import { DataTable, failure, Status, useLoad, type PageProps } from '../ui.js';

const tr = addPage('account', {
  en: {
    optOuts: 'Opt-outs', phone: 'Number', source: 'Source', since: 'Since', add: 'Add', remove: 'Remove', none: 'None.',
    senders: 'Sender identities', value: 'Number or sender id', kind: 'Kind', provider: 'Provider', isDefault: 'Default', makeDefault: 'Make it the default',
    webhooks: 'Webhook endpoints', url: 'URL', events: 'Events', state: 'State', enabled: 'enabled', disabled: 'disabled: {{reason}}', failures: 'Consecutive failures',
    deliveries: 'Deliveries', showDeliveries: 'Delivery log', retry: 'Retry', event: 'Event', status: 'Status', attempts: 'Attempts', lastCode: 'Last HTTP status', lastError: 'Last error', next: 'Next attempt',
    verifications: 'Verifications', to: 'To', attemptsLeft: 'Attempts left', expires: 'Expires', created: 'Created',
  },
  zh: {
    optOuts: '退订名单', phone: '号码', source: '来源', since: '时间', add: '添加', remove: '移除', none: '无。',
    senders: '发送方身份', value: '号码或签名 ID', kind: '类型', provider: '通道', isDefault: '默认', makeDefault: '设为默认',
    webhooks: 'Webhook 端点', url: 'URL', events: '事件', state: '状态', enabled: '启用', disabled: '已停用：{{reason}}', failures: '连续失败次数',
    deliveries: '投递记录', showDeliveries: '投递记录', retry: '重试', event: '事件', status: '状态', attempts: '尝试次数', lastCode: '最近 HTTP 状态', lastError: '最近错误', next: '下次尝试',
    verifications: '验证码记录', to: '号码', attemptsLeft: '剩余次数', expires: '过期时间', created: '创建时间',
  },
});

type Result = { __typename: string; code?: string; message?: string; issues?: { message: string }[] };
// Only unions that have ValidationError may spread it (a GraphQL validation error otherwise).
const ERR = '... on Error { code message }';
const ERR_ISSUES = `${ERR} ... on ValidationError { issues { message } }`;

/** Runs a mutation returning a union; its failure (or none) goes to `setError`, then `done`. */
async function mutate(query: string, variables: Record<string, unknown>, field: string, setError: (e: string) => void, done: () => void) {
  try {
    const r = (await gql<Record<string, Result>>(query, variables))[field];
    setError(r.__typename.endsWith('Success') ? '' : failure(r));
  } catch (e) {
    setError((e as Error).message);
  }
  done();
}

export function OptOuts(_: PageProps) {
  const loaded = useLoad(() => gql<{ optOuts: { edges: { node: { phone: string; source: string; createdAt: string } }[] } }>(
    '{ optOuts(first: 100) { edges { node { phone source createdAt } } } }').then((d) => d.optOuts.edges.map((e) => e.node)), []);
  const [error, setError] = useState('');
  return (
    <section class="card wide">
      <h2>{tr('optOuts')}</h2>
      <form id="add-opt-out" class="row" onSubmit={(e) => {
        e.preventDefault();
        const form = e.currentTarget;
        const phone = String(new FormData(form).get('phone')).trim();
        void mutate(`mutation($phone: String!) { addOptOut(phone: $phone) { __typename ${ERR} } }`, { phone }, 'addOptOut', setError, () => (form.reset(), loaded.reload()));
      }}>
        <label>{tr('phone')} <input name="phone" required placeholder="+8613800138000" /></label>
        <button type="submit">{tr('add')}</button>
      </form>
      {error && <p class="err" role="alert">{error}</p>}
      <Status loaded={loaded} />
      {loaded.data && !loaded.data.length && <p class="muted">{tr('none')}</p>}
      <DataTable id="opt-outs" heads={[tr('phone'), tr('source'), tr('since'), '']}>
        {(loaded.data ?? []).map((o) => (
          <tr key={o.phone} data-phone={o.phone}>
            <td>{o.phone}</td><td>{o.source}</td><td>{fmtDateTime(o.createdAt)}</td>
            <td><button type="button" onClick={() => void mutate(`mutation($phone: String!) { removeOptOut(phone: $phone) { __typename ${ERR} } }`, { phone: o.phone }, 'removeOptOut', setError, loaded.reload)}>{tr('remove')}</button></td>
          </tr>
        ))}
      </DataTable>
    </section>
  );
}

export function Senders({ admin }: PageProps) {
  const loaded = useLoad(() => gql<{ senderIdentities: { id: string; value: string; kind: string; provider: string | null; isDefault: boolean }[] }>(
    '{ senderIdentities { id value kind provider isDefault } }').then((d) => d.senderIdentities), []);
  const [error, setError] = useState('');
  if (!admin) return <section class="card wide"><h2>{tr('senders')}</h2><p class="muted">{t('adminOnly')}</p></section>;
  return (
    <section class="card wide">
      <h2>{tr('senders')}</h2>
      <form id="add-sender" class="row" onSubmit={(e) => {
        e.preventDefault();
        const form = e.currentTarget;
        const f = new FormData(form);
        void mutate(`mutation($value: String!, $isDefault: Boolean) { addSenderIdentity(value: $value, isDefault: $isDefault) { __typename ${ERR_ISSUES} } }`,
          { value: String(f.get('value')).trim(), isDefault: f.get('isDefault') === 'on' }, 'addSenderIdentity', setError, () => (form.reset(), loaded.reload()));
      }}>
        <label>{tr('value')} <input name="value" required placeholder="+14155550100 / HERALD" /></label>
        <label class="check"><input type="checkbox" name="isDefault" /> {tr('makeDefault')}</label>
        <button type="submit">{tr('add')}</button>
      </form>
      {error && <p class="err" role="alert">{error}</p>}
      <Status loaded={loaded} />
      <DataTable id="senders" heads={[tr('value'), tr('kind'), tr('provider'), tr('isDefault'), '']}>
        {(loaded.data ?? []).map((s) => (
          <tr key={s.id} data-id={s.id}>
            <td>{s.value}</td><td>{s.kind}</td><td>{s.provider ?? ''}</td><td>{s.isDefault ? '✓' : ''}</td>
            <td><button type="button" onClick={() => void mutate(`mutation($id: ID!) { removeSenderIdentity(id: $id) { __typename ${ERR} } }`, { id: s.id }, 'removeSenderIdentity', setError, loaded.reload)}>{tr('remove')}</button></td>
          </tr>
        ))}
      </DataTable>
    </section>
  );
}

interface Delivery { id: string; eventType: string; status: string; attempts: number; lastStatusCode: number | null; lastError: string | null; nextAttemptAt: string | null; createdAt: string }

function Deliveries({ endpointId }: { endpointId: string }) {
  const loaded = useLoad(() => gql<{ webhookDeliveries: { edges: { node: Delivery }[] } }>(`query($id: ID!) { webhookDeliveries(endpointId: $id, first: 50) {
    edges { node { id eventType status attempts lastStatusCode lastError nextAttemptAt createdAt } } } }`, { id: endpointId }).then((d) => d.webhookDeliveries.edges.map((e) => e.node)), [endpointId]);
  const [error, setError] = useState('');
  const retry = (id: string) =>
    mutate(`mutation($id: ID!) { retryWebhookDelivery(id: $id) { __typename ${ERR_ISSUES} } }`, { id }, 'retryWebhookDelivery', setError, () => {
      loaded.reload();
      // The worker sends it within moments: look again shortly for the outcome.
      setTimeout(loaded.reload, 1500);
    });
  return (
    <div class="detail">
      <h3>{tr('deliveries')}</h3>
      <Status loaded={loaded} />
      {error && <p class="err" role="alert">{error}</p>}
      {loaded.data && !loaded.data.length && <p class="muted">{tr('none')}</p>}
      <DataTable id="deliveries" heads={[tr('created'), tr('event'), tr('status'), tr('attempts'), tr('lastCode'), tr('lastError'), tr('next'), '']}>
        {(loaded.data ?? []).map((d) => (
          <tr key={d.id} data-id={d.id}>
            <td>{fmtDateTime(d.createdAt)}</td><td>{d.eventType}</td><td data-testid="delivery-status">{d.status}</td><td>{d.attempts}</td>
            <td>{d.lastStatusCode ?? ''}</td><td>{d.lastError ?? ''}</td><td>{fmtDateTime(d.nextAttemptAt)}</td>
            <td>{d.status === 'FAILED' && <button type="button" onClick={() => void retry(d.id)}>{tr('retry')}</button>}</td>
          </tr>
        ))}
      </DataTable>
    </div>
  );
}

export function Webhooks(_: PageProps) {
  const loaded = useLoad(() => gql<{ webhookEndpoints: { id: string; url: string; eventTypes: string[]; enabled: boolean; disabledReason: string | null; consecutiveFailures: number }[] }>(
    '{ webhookEndpoints { id url eventTypes enabled disabledReason consecutiveFailures } }').then((d) => d.webhookEndpoints), []);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section class="card wide">
      <h2>{tr('webhooks')}</h2>
      <Status loaded={loaded} />
      {loaded.data && !loaded.data.length && <p class="muted">{tr('none')}</p>}
      <DataTable id="webhooks" heads={[tr('url'), tr('events'), tr('state'), tr('failures'), '']}>
        {(loaded.data ?? []).map((w) => (
          <tr key={w.id} data-id={w.id}>
            <td>{w.url}</td><td>{w.eventTypes.join(', ')}</td><td>{w.enabled ? tr('enabled') : tr('disabled', { reason: w.disabledReason ?? '' })}</td><td>{w.consecutiveFailures}</td>
            <td><button type="button" aria-pressed={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>{tr('showDeliveries')}</button></td>
          </tr>
        ))}
      </DataTable>
      {open && <Deliveries endpointId={open} />}
    </section>
  );
}

export function Verifications(_: PageProps) {
  const loaded = useLoad(() => gql<{ verifications: { edges: { node: { id: string; to: string; status: string; attempts: number; attemptsLeft: number; expiresAt: string; createdAt: string } }[] } }>(
    '{ verifications(first: 100) { edges { node { id to status attempts attemptsLeft expiresAt createdAt } } } }').then((d) => d.verifications.edges.map((e) => e.node)), []);
  return (
    <section class="card wide">
      <h2>{tr('verifications')}</h2>
      <Status loaded={loaded} />
      {loaded.data && !loaded.data.length && <p class="muted">{tr('none')}</p>}
      <DataTable id="verifications" heads={[tr('created'), tr('to'), tr('status'), tr('attempts'), tr('attemptsLeft'), tr('expires')]}>
        {(loaded.data ?? []).map((v) => (
          <tr key={v.id}><td>{fmtDateTime(v.createdAt)}</td><td>{v.to}</td><td>{v.status}</td><td>{v.attempts}</td><td>{v.attemptsLeft}</td><td>{fmtDateTime(v.expiresAt)}</td></tr>
        ))}
      </DataTable>
    </section>
  );
}
