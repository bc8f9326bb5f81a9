// The account's lists: opt-outs (add, remove), sender identities (add, remove; ADMIN) and
// verifications (statuses and attempts, never codes). Webhook endpoints have their own page
// (webhooks.tsx).
import { useState } from 'preact/hooks';
import { gql } from '../api.js';
import { addPage, fmtDateTime, t } from '../i18n.js';
import { DataTable, failure, Status, useLoad, type PageProps } from '../ui.js';

const tr = addPage('account', {
  en: {
    optOuts: 'Opt-outs', phone: 'Number', source: 'Source', since: 'Since', add: 'Add', remove: 'Remove', none: 'None.',
    senders: 'Sender identities', value: 'Number or sender id', kind: 'Kind', provider: 'Provider', isDefault: 'Default', makeDefault: 'Make it the default',
    verifications: 'Verifications', status: 'Status', attempts: 'Attempts', to: 'To', attemptsLeft: 'Attempts left', expires: 'Expires', created: 'Created',
  },
  zh: {
    optOuts: '退订名单', phone: '号码', source: '来源', since: '时间', add: '添加', remove: '移除', none: '无。',
    senders: '发送方身份', value: '号码或签名 ID', kind: '类型', provider: '通道', isDefault: '默认', makeDefault: '设为默认',
    verifications: '验证码记录', status: '状态', attempts: '尝试次数', to: '号码', attemptsLeft: '剩余次数', expires: '过期时间', created: '创建时间',
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
