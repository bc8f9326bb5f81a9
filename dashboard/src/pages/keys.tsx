// API keys: the account's keys (revoked ones too), a new key whose secret is shown once (the
// server never shows it again), and revoking (ADMIN). The key this tab signed in with cannot be
// revoked from here, so the page never locks itself out by a slip.
import { useState } from 'preact/hooks';
import { gql } from '../api.js';
import { addPage, fmtDateTime, t } from '../i18n.js';
import { Confirm, failure, Status, useLoad, type PageProps } from '../ui.js';

const tr = addPage('keys', {
  en: {
    title: 'API keys', name: 'Name', role: 'Role', prefix: 'Prefix', created: 'Created', lastUsed: 'Last used', state: 'State',
    active: 'active', revokedAt: 'revoked {{at}}', revoke: 'Revoke', thisKey: 'this tab’s key', create: 'Create key',
    secret: 'The new key — copy it now, it is never shown again:', revokeConfirm: 'Revoke {{name}}? Its apps and tokens stop at once.',
    confirm: 'Confirm revoke', cancel: 'Cancel',
  },
  zh: {
    title: 'API 密钥', name: '名称', role: '角色', prefix: '前缀', created: '创建时间', lastUsed: '最近使用', state: '状态',
    active: '有效', revokedAt: '已于 {{at}} 吊销', revoke: '吊销', thisKey: '当前登录所用密钥', create: '创建密钥',
    secret: '新密钥——请立即复制，之后不会再显示：', revokeConfirm: '吊销 {{name}}？使用它的应用和令牌会立即失效。',
    confirm: '确认吊销', cancel: '取消',
  },
});

interface Key { id: string; name: string; role: string; prefix: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }
const KEY = 'id name role prefix createdAt lastUsedAt revokedAt';
const CREATE = `mutation($name: String!, $role: ApiKeyRole!) { createApiKey(name: $name, role: $role) {
  ... on CreateApiKeySuccess { data { secret apiKey { id } } } ... on Error { code message } ... on ValidationError { issues { message } } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { ... on RevokeApiKeySuccess { data { id revokedAt } } ... on Error { code message } } }`;

export function Keys({ admin }: PageProps) {
  const loaded = useLoad(() => gql<{ apiKeys: Key[]; viewer: { apiKey: { id: string } } }>(`{ apiKeys { ${KEY} } viewer { apiKey { id } } }`), []);
  const [secret, setSecret] = useState('');
  const [message, setMessage] = useState('');
  const [confirming, setConfirming] = useState<string | null>(null);
  const self = loaded.data?.viewer.apiKey.id;
  const revoke = async (id: string) => {
    setConfirming(null);
    const r = (await gql(REVOKE, { id })).revokeApiKey;
    setMessage(r.data ? '' : failure(r));
    loaded.reload();
  };
  return (
    <section class="card wide">
      <h2>{tr('title')}</h2>
      {!admin && <p class="muted">{t('adminOnly')}</p>}
      <form id="create-key" class="row" onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget; // null once the event is over, so kept before awaiting
        const f = new FormData(form);
        const r = (await gql(CREATE, { name: String(f.get('name')).trim(), role: String(f.get('role')) })).createApiKey;
        if (r.data) {
          setSecret(r.data.secret);
          setMessage('');
          form.reset();
        } else setMessage(failure(r));
        loaded.reload();
      }}>
        <label>{tr('name')} <input name="name" required disabled={!admin} /></label>
        <label>{tr('role')}
          <select name="role" disabled={!admin}><option value="SENDER">SENDER</option><option value="ADMIN">ADMIN</option></select>
        </label>
        <button type="submit" disabled={!admin}>{tr('create')}</button>
      </form>
      {secret && (
        <div class="secret" role="alert">
          <p>{tr('secret')}</p>
          <code data-testid="new-secret">{secret}</code>
        </div>
      )}
      {message && <p class="err" role="alert">{message}</p>}
      <Status loaded={loaded} />
      <div class="scroll">
        <table id="keys">
          <thead><tr><th>{tr('name')}</th><th>{tr('role')}</th><th>{tr('prefix')}</th><th>{tr('created')}</th><th>{tr('lastUsed')}</th><th>{tr('state')}</th><th /></tr></thead>
          <tbody>
            {(loaded.data?.apiKeys ?? []).map((k) => (
              <tr key={k.id} data-id={k.id}>
                <td>{k.name}</td><td>{k.role}</td><td><code>{k.prefix}</code></td><td>{fmtDateTime(k.createdAt)}</td><td>{fmtDateTime(k.lastUsedAt)}</td>
                <td data-testid="key-state">{k.revokedAt ? tr('revokedAt', { at: fmtDateTime(k.revokedAt) }) : tr('active')}</td>
                <td>
                  {k.id === self ? <span class="muted">{tr('thisKey')}</span> : !k.revokedAt && admin && (confirming === k.id ? (
                    <Confirm question={tr('revokeConfirm', { name: k.name })} confirm={tr('confirm')} cancel={tr('cancel')}
                      onConfirm={() => void revoke(k.id)} onCancel={() => setConfirming(null)} />
                  ) : <button type="button" onClick={() => setConfirming(k.id)}>{tr('revoke')}</button>)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
