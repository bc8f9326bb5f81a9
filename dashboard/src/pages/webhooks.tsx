// Outgoing webhook endpoints (ADMIN): create one (its signing secret shown once), edit its URL,
// event types and whether it is enabled, rotate its secret (the new one shown once), delete it
// (after confirming); and each one's delivery log, where a FAILED delivery can be retried
// (`retryWebhookDelivery`). A refused input shows its code next to the field it is about.
import { useState } from 'preact/hooks';
import { gql } from '../api.js';
import { addPage, fmtDateTime, lang, t } from '../i18n.js';
import { Confirm, DataTable, failure, FieldError, formErrors, Status, useLoad, type PageProps, type UnionResult } from '../ui.js';

const tr = addPage('webhooks', {
  en: {
    title: 'Webhook endpoints', url: 'URL', description: 'Description', events: 'Events', state: 'State', enabled: 'enabled', off: 'disabled',
    disabled: 'disabled: {{reason}}', failures: 'Consecutive failures', none: 'None.', create: 'Add endpoint', newEndpoint: 'New endpoint',
    edit: 'Edit', save: 'Save', cancel: 'Cancel', enable: 'Enabled', rotate: 'Rotate secret', del: 'Delete', confirm: 'Confirm',
    rotateConfirm: 'Replace the signing secret of {{url}}? The next attempts are signed with the new one.',
    deleteConfirm: 'Delete {{url}} and its delivery log?',
    secret: 'The signing secret — copy it now, it is never shown again:', actions: 'Actions', endpointOf: 'Endpoint {{url}}',
    deliveries: 'Delivery log', showDeliveries: 'Delivery log', retry: 'Retry', event: 'Event', status: 'Status', attempts: 'Attempts',
    lastCode: 'Last HTTP status', lastError: 'Last error', next: 'Next attempt', created: 'Created', saved: 'Saved.',
  },
  zh: {
    title: 'Webhook 端点', url: 'URL', description: '描述', events: '事件', state: '状态', enabled: '启用', off: '已停用',
    disabled: '已停用：{{reason}}', failures: '连续失败次数', none: '无。', create: '添加端点', newEndpoint: '新端点',
    edit: '编辑', save: '保存', cancel: '取消', enable: '启用', rotate: '更换密钥', del: '删除', confirm: '确认',
    rotateConfirm: '更换 {{url}} 的签名密钥？之后的投递将使用新密钥签名。',
    deleteConfirm: '删除 {{url}} 及其投递记录？',
    secret: '签名密钥——请立即复制，之后不会再显示：', actions: '操作', endpointOf: '端点 {{url}}',
    deliveries: '投递记录', showDeliveries: '投递记录', retry: '重试', event: '事件', status: '状态', attempts: '尝试次数',
    lastCode: '最近 HTTP 状态', lastError: '最近错误', next: '下次尝试', created: '创建时间', saved: '已保存。',
  },
});

/** How each event type reads; the payload's dotted name stays visible in both languages. */
const EVENT_WORDS: Record<string, { en: string; zh: string }> = {
  MESSAGE_STATUS_CHANGED: { en: 'every status change', zh: '每次状态变化' },
  MESSAGE_SENT: { en: 'sent', zh: '已发出' },
  MESSAGE_DELIVERED: { en: 'delivered', zh: '已送达' },
  MESSAGE_FAILED: { en: 'failed', zh: '发送失败' },
  INBOUND_RECEIVED: { en: 'reply received', zh: '收到回复' },
  BUDGET_THRESHOLD: { en: 'budget threshold', zh: '预算阈值' },
};

interface Endpoint { id: string; url: string; description: string; eventTypes: string[]; enabled: boolean; disabledReason: string | null; consecutiveFailures: number }
const ENDPOINT = 'id url description eventTypes enabled disabledReason consecutiveFailures';
// Only unions that have ValidationError may spread it (a GraphQL validation error otherwise).
const ERR_PLAIN = '__typename ... on Error { code message }';
const ERR = `${ERR_PLAIN} ... on ValidationError { issues { message path } }`;
const FIELDS = ['url', 'eventTypes', 'description', 'enabled'];

// The event types come from the schema itself, so a new one shows without a console release.
const EVENT_TYPES = '__type(name: "WebhookEventType") { enumValues { name } }';

function EventChoices({ id, types, chosen, error }: { id: string; types: string[]; chosen: string[]; error?: string }) {
  return (
    <fieldset class="events" aria-describedby={error ? `${id}-error` : undefined}>
      <legend>{tr('events')}</legend>
      {types.map((type) => (
        <label key={type} class="check">
          <input type="checkbox" name="eventTypes" value={type} defaultChecked={chosen.includes(type)} />
          {EVENT_WORDS[type]?.[lang()] ?? type} <code>{type.toLowerCase().replace('_', '.')}</code>
        </label>
      ))}
      <FieldError id={id} text={error} />
    </fieldset>
  );
}

/** The URL, description and event types of a form; `enabled` only when editing. */
function read(form: HTMLFormElement, editing: boolean) {
  const f = new FormData(form);
  return {
    url: String(f.get('url') ?? '').trim(),
    description: String(f.get('description') ?? '').trim(),
    eventTypes: f.getAll('eventTypes').map(String),
    ...(editing ? { enabled: f.get('enabled') === 'on' } : {}),
  };
}

function EndpointForm({ id, types, endpoint, onDone, onCancel }: { id: string; types: string[]; endpoint?: Endpoint; onDone: (secret?: string) => void; onCancel?: () => void }) {
  const [errors, setErrors] = useState<{ fields: Record<string, string>; general: string }>({ fields: {}, general: '' });
  const submit = async (form: HTMLFormElement) => {
    const input = read(form, !!endpoint);
    try {
      const r = endpoint
        ? (await gql<{ updateWebhookEndpoint: UnionResult }>(`mutation($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) { ${ERR} } }`, { id: endpoint.id, input })).updateWebhookEndpoint
        : (await gql<{ createWebhookEndpoint: UnionResult & { data?: { secret: string } } }>(`mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
            ${ERR} ... on CreateWebhookEndpointSuccess { data { secret } } } }`, { input })).createWebhookEndpoint;
      const next = formErrors(r, FIELDS);
      setErrors(next);
      if (r.__typename.endsWith('Success')) {
        if (!endpoint) form.reset();
        onDone((r as { data?: { secret?: string } }).data?.secret);
      }
    } catch (e) {
      setErrors({ fields: {}, general: (e as Error).message });
    }
  };
  const described = (field: string) => (errors.fields[field] ? `${id}-${field}-error` : undefined);
  return (
    <form id={id} class="endpoint-form" onSubmit={(e) => {
      e.preventDefault();
      void submit(e.currentTarget);
    }}>
      <label>{tr('url')}
        <input name="url" type="url" required defaultValue={endpoint?.url} placeholder="https://example.com/herald" aria-invalid={!!errors.fields.url} aria-describedby={described('url')} />
        <FieldError id={`${id}-url`} text={errors.fields.url} />
      </label>
      <label>{tr('description')}
        <input name="description" defaultValue={endpoint?.description} aria-invalid={!!errors.fields.description} aria-describedby={described('description')} />
        <FieldError id={`${id}-description`} text={errors.fields.description} />
      </label>
      <EventChoices id={`${id}-eventTypes`} types={types} chosen={endpoint?.eventTypes ?? ['MESSAGE_STATUS_CHANGED']} error={errors.fields.eventTypes} />
      {endpoint && <label class="check"><input type="checkbox" name="enabled" defaultChecked={endpoint.enabled} /> {tr('enable')}</label>}
      <div class="actions">
        <button type="submit">{endpoint ? tr('save') : tr('create')}</button>
        {onCancel && <button type="button" onClick={onCancel}>{tr('cancel')}</button>}
      </div>
      {errors.general && <p class="err" role="alert" data-testid="form-error">{errors.general}</p>}
    </form>
  );
}

interface Delivery { id: string; eventType: string; status: string; attempts: number; lastStatusCode: number | null; lastError: string | null; nextAttemptAt: string | null; createdAt: string }

function Deliveries({ endpointId }: { endpointId: string }) {
  const loaded = useLoad(() => gql<{ webhookDeliveries: { edges: { node: Delivery }[] } }>(`query($id: ID!) { webhookDeliveries(endpointId: $id, first: 50) {
    edges { node { id eventType status attempts lastStatusCode lastError nextAttemptAt createdAt } } } }`, { id: endpointId }).then((d) => d.webhookDeliveries.edges.map((e) => e.node)), [endpointId]);
  const [error, setError] = useState('');
  const retry = async (id: string) => {
    try {
      const r = (await gql<{ retryWebhookDelivery: UnionResult }>(`mutation($id: ID!) { retryWebhookDelivery(id: $id) { ${ERR} } }`, { id })).retryWebhookDelivery;
      setError(r.__typename.endsWith('Success') ? '' : failure(r));
    } catch (e) {
      setError((e as Error).message);
    }
    loaded.reload();
    // The worker sends it within moments: look again shortly for the outcome.
    setTimeout(loaded.reload, 1500);
  };
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

type Pending = { kind: 'rotate' | 'delete'; id: string } | null;

export function Webhooks({ admin }: PageProps) {
  // Only ADMIN keys may read endpoints: another key is told so without asking.
  const loaded = useLoad(() => (!admin ? Promise.resolve(null) : gql<{ webhookEndpoints: Endpoint[]; __type: { enumValues: { name: string }[] } }>(`{ webhookEndpoints { ${ENDPOINT} } ${EVENT_TYPES} }`)
    .then((d) => ({ endpoints: d.webhookEndpoints, types: d.__type.enumValues.map((v) => v.name) }))), [admin]);
  const [open, setOpen] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [secret, setSecret] = useState('');
  const [message, setMessage] = useState('');
  if (!admin) return <section class="card wide"><h2>{tr('title')}</h2><p class="muted">{t('adminOnly')}</p></section>;
  const act = async ({ kind, id }: NonNullable<Pending>) => {
    setPending(null);
    try {
      if (kind === 'rotate') {
        const r = (await gql<{ rotateWebhookSecret: UnionResult & { data?: { secret: string } } }>(`mutation($id: ID!) { rotateWebhookSecret(id: $id) { ${ERR_PLAIN} ... on RotateWebhookSecretSuccess { data { secret } } } }`, { id })).rotateWebhookSecret;
        setMessage(r.data ? '' : failure(r));
        if (r.data) setSecret(r.data.secret);
      } else {
        const r = (await gql<{ deleteWebhookEndpoint: UnionResult }>(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { ${ERR_PLAIN} } }`, { id })).deleteWebhookEndpoint;
        setMessage(r.__typename.endsWith('Success') ? '' : failure(r));
        if (open === id) setOpen(null);
      }
    } catch (e) {
      setMessage((e as Error).message);
    }
    loaded.reload();
  };
  const types = loaded.data?.types ?? [];
  return (
    <section class="card wide" id="webhooks-page">
      <h2>{tr('title')}</h2>
      <details class="filter-box" open={!loaded.data?.endpoints.length}>
        <summary>{tr('newEndpoint')}</summary>
        {loaded.data && <EndpointForm id="create-webhook" types={types} onDone={(s) => (setSecret(s ?? ''), setMessage(''), loaded.reload())} />}
      </details>
      {secret && (
        <div class="secret" role="alert">
          <p>{tr('secret')}</p>
          <code data-testid="webhook-secret">{secret}</code>
        </div>
      )}
      {message && <p class="err" role="alert">{message}</p>}
      <Status loaded={loaded} />
      {loaded.data && !loaded.data.endpoints.length && <p class="muted">{tr('none')}</p>}
      <DataTable id="webhooks" heads={[tr('url'), tr('events'), tr('state'), tr('failures'), tr('actions')]}>
        {(loaded.data?.endpoints ?? []).map((w) => (
          <tr key={w.id} data-id={w.id}>
            <td>{w.url}{w.description && <div class="muted">{w.description}</div>}</td>
            <td>{w.eventTypes.join(', ')}</td>
            <td data-testid="endpoint-state">{w.enabled ? tr('enabled') : w.disabledReason ? tr('disabled', { reason: w.disabledReason }) : tr('off')}</td>
            <td>{w.consecutiveFailures}</td>
            <td>
              {pending?.id === w.id ? (
                <Confirm question={tr(pending.kind === 'rotate' ? 'rotateConfirm' : 'deleteConfirm', { url: w.url })} confirm={tr('confirm')} cancel={tr('cancel')}
                  onConfirm={() => void act(pending)} onCancel={() => setPending(null)} />
              ) : (
                <div class="actions" role="group" aria-label={tr('endpointOf', { url: w.url })}>
                  <button type="button" data-action="deliveries" aria-pressed={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>{tr('showDeliveries')}</button>
                  <button type="button" data-action="edit" aria-pressed={editing === w.id} onClick={() => setEditing(editing === w.id ? null : w.id)}>{tr('edit')}</button>
                  <button type="button" data-action="rotate" onClick={() => setPending({ kind: 'rotate', id: w.id })}>{tr('rotate')}</button>
                  <button type="button" data-action="delete" onClick={() => setPending({ kind: 'delete', id: w.id })}>{tr('del')}</button>
                </div>
              )}
            </td>
          </tr>
        ))}
      </DataTable>
      {editing && loaded.data?.endpoints.some((w) => w.id === editing) && (
        <div class="detail">
          <h3>{tr('edit')}</h3>
          <EndpointForm key={editing} id="edit-webhook" types={types} endpoint={loaded.data.endpoints.find((w) => w.id === editing)}
            onDone={() => (setEditing(null), loaded.reload())} onCancel={() => setEditing(null)} />
        </div>
      )}
      {open && <Deliveries endpointId={open} />}
    </section>
  );
}
