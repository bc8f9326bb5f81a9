// Templates: the review queue (approve, or reject with a reason; ADMIN keys) showing what
// changed since the previous version, the account's templates, and an editor with a live
// preview (segments, encoding, sensitive words) that saves and submits for review.
import { useState } from 'preact/hooks';
import { gql } from '../api.js';
import { diffWords } from '../diff.js';
import { addPage, fmtDateTime, t } from '../i18n.js';
import { failure, Status, useLoad, type PageProps } from '../ui.js';
import { PreviewView, usePreview } from './send.js';

const tr = addPage('templates', {
  en: {
    queue: 'Review queue', queueEmpty: 'No template waits for review.', approve: 'Approve', reject: 'Reject', reason: 'Reason for rejecting',
    reasonNeeded: 'Give a reason to reject.', changes: 'Changes since version {{version}}', firstVersion: 'First version.',
    list: 'Templates', name: 'Name', category: 'Category', status: 'Status', version: 'Version', updated: 'Updated', edit: 'Edit', none: 'No templates yet.',
    editor: 'Editor', newTemplate: 'New template', editing: 'Editing {{name}}', body: 'Body', save: 'Save', submit: 'Submit for review',
    saved: 'Saved: {{status}}', submitted: 'Submitted: {{status}}', rejected: 'Rejected: {{reason}}', variables: 'Variables: {{names}}',
  },
  zh: {
    queue: '待审核', queueEmpty: '没有待审核的模板。', approve: '通过', reject: '驳回', reason: '驳回原因',
    reasonNeeded: '驳回需要填写原因。', changes: '相对第 {{version}} 版的修改', firstVersion: '首个版本。',
    list: '模板列表', name: '名称', category: '类型', status: '状态', version: '版本', updated: '更新时间', edit: '编辑', none: '还没有模板。',
    editor: '编辑器', newTemplate: '新建模板', editing: '编辑 {{name}}', body: '内容', save: '保存', submit: '提交审核',
    saved: '已保存：{{status}}', submitted: '已提交：{{status}}', rejected: '已驳回：{{reason}}', variables: '变量：{{names}}',
  },
});

interface Version { version: number; body: string; status: string }
interface Template {
  id: string; name: string; category: string; body: string; status: string; version: number; updatedAt: string;
  rejectionReason: string | null; variables: string[]; versions: Version[];
}
const FIELDS = 'id name category body status version updatedAt rejectionReason variables versions { version body status }';
const RESULT = (name: string) => `... on ${name} { data { id status } } ... on Error { code message } ... on ValidationError { issues { message } }`;
const REVIEW = `mutation($id: ID!, $approve: Boolean!, $reason: String) { reviewTemplate(id: $id, approve: $approve, reason: $reason) { ${RESULT('ReviewTemplateSuccess')} } }`;
const CREATE = `mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { ${RESULT('CreateTemplateSuccess')} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateTemplateInput!) { updateTemplate(id: $id, input: $input) { ${RESULT('UpdateTemplateSuccess')} } }`;
const SUBMIT = `mutation($id: ID!) { submitTemplate(id: $id) { ${RESULT('SubmitTemplateSuccess')} } }`;
type Result = { data?: { id: string; status: string }; code?: string; message?: string; issues?: { message: string }[] };

function Diff({ template }: { template: Template }) {
  // Versions are newest first: the one before the pending one is what was last reviewed.
  const previous = template.versions.find((v) => v.version < template.version);
  if (!previous) return <p class="muted">{tr('firstVersion')}</p>;
  return (
    <div class="diff" data-testid="diff">
      <p class="muted">{tr('changes', { version: previous.version })}</p>
      <pre>{diffWords(previous.body, template.body).map((p, i) =>
        p.kind === 'same' ? p.text : p.kind === 'added' ? <ins key={i}>{p.text}</ins> : <del key={i}>{p.text}</del>)}</pre>
    </div>
  );
}

function Pending({ template, admin, onDone }: { template: Template; admin: boolean; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState('');
  const decide = async (approve: boolean) => {
    if (!approve && !reason.trim()) return setOutcome(tr('reasonNeeded'));
    const r = (await gql<{ reviewTemplate: Result }>(REVIEW, { id: template.id, approve, reason: approve ? null : reason.trim() })).reviewTemplate;
    if (r.data) return onDone();
    setOutcome(failure(r));
  };
  return (
    <div class="template" data-id={template.id}>
      <strong>{template.name}</strong> <span class="muted">{template.category} · v{template.version}</span>
      <pre>{template.body}</pre>
      <Diff template={template} />
      <div class="actions">
        <button type="button" disabled={!admin} onClick={() => void decide(true)}>{tr('approve')}</button>
        <label class="inline">{tr('reason')} <input value={reason} disabled={!admin} onInput={(e) => setReason(e.currentTarget.value)} /></label>
        <button type="button" disabled={!admin} onClick={() => void decide(false)}>{tr('reject')}</button>
      </div>
      {outcome && <p class="err" role="alert">{outcome}</p>}
    </div>
  );
}

function Editor({ editing, onSaved }: { editing: Template | null; onSaved: () => void }) {
  const [name, setName] = useState(editing?.name ?? '');
  const [category, setCategory] = useState(editing?.category ?? 'NOTIFICATION');
  const [body, setBody] = useState(editing?.body ?? '');
  const [id, setId] = useState(editing?.id ?? null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const { preview, error } = usePreview(body ? { body } : null);
  const save = async (): Promise<string | null> => {
    const r = id
      ? (await gql<{ updateTemplate: Result }>(UPDATE, { id, input: { name, category, body } })).updateTemplate
      : (await gql<{ createTemplate: Result }>(CREATE, { input: { name, category, body } })).createTemplate;
    if (!r.data) return (setResult({ ok: false, text: failure(r) }), null);
    setId(r.data.id);
    setResult({ ok: true, text: tr('saved', { status: r.data.status }) });
    onSaved();
    return r.data.id;
  };
  const variables = [...new Set([...body.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]))];
  return (
    <form id="template-editor" class="card" onSubmit={(e) => { e.preventDefault(); void save(); }}>
      <h3>{id ? tr('editing', { name }) : tr('newTemplate')}</h3>
      <label>{tr('name')} <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
      <label>{tr('category')}
        <select name="category" value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
          {['NOTIFICATION', 'OTP', 'MARKETING'].map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
      </label>
      <label>{tr('body')} <textarea name="body" rows={4} required value={body} onInput={(e) => setBody(e.currentTarget.value)} /></label>
      <div aria-live="polite" class="preview">
        {variables.length > 0 && <div class="muted">{tr('variables', { names: variables.join(', ') })}</div>}
        <PreviewView preview={preview} />
        {error && <div class="warn">{error}</div>}
      </div>
      <div class="actions">
        <button type="submit">{tr('save')}</button>
        <button type="button" onClick={async () => {
          const saved = await save();
          if (!saved) return;
          const r = (await gql<{ submitTemplate: Result }>(SUBMIT, { id: saved })).submitTemplate;
          setResult(r.data ? { ok: true, text: tr('submitted', { status: r.data.status }) } : { ok: false, text: failure(r) });
          onSaved();
        }}>{tr('submit')}</button>
      </div>
      <p role="status" data-testid="editor-result" class={result ? (result.ok ? 'ok' : 'err') : ''}>{result?.text ?? ''}</p>
    </form>
  );
}

export function Templates({ admin }: PageProps) {
  const loaded = useLoad(() => gql<{ templates: { edges: { node: Template }[] } }>(`{ templates(first: 100) { edges { node { ${FIELDS} } } } }`)
    .then((d) => d.templates.edges.map((e) => e.node)), []);
  const [editing, setEditing] = useState<{ template: Template | null; n: number }>({ template: null, n: 0 });
  const all = loaded.data ?? [];
  const pending = all.filter((x) => x.status === 'PENDING_REVIEW');
  return (
    <>
      <section class="card">
        <h2>{tr('queue')}</h2>
        {!admin && <p class="muted">{t('adminOnly')}</p>}
        <div id="templates">
          {loaded.data && !pending.length && <p class="muted">{tr('queueEmpty')}</p>}
          {pending.map((x) => <Pending key={x.id} template={x} admin={!!admin} onDone={loaded.reload} />)}
        </div>
      </section>
      <Editor key={editing.n} editing={editing.template} onSaved={loaded.reload} />
      <section class="card wide">
        <h2>{tr('list')}</h2>
        <Status loaded={loaded} />
        <button type="button" onClick={() => setEditing((e) => ({ template: null, n: e.n + 1 }))}>{tr('newTemplate')}</button>
        {loaded.data && !all.length && <p class="muted">{tr('none')}</p>}
        <div class="scroll">
          <table id="template-list">
            <thead><tr><th>{tr('name')}</th><th>{tr('category')}</th><th>{tr('status')}</th><th>{tr('version')}</th><th>{tr('updated')}</th><th /></tr></thead>
            <tbody>
              {all.map((x) => (
                <tr key={x.id} data-id={x.id}>
                  <td>{x.name}</td><td>{x.category}</td>
                  <td data-testid="template-status">{x.status}{x.rejectionReason ? ` · ${tr('rejected', { reason: x.rejectionReason })}` : ''}</td>
                  <td>{x.version}</td><td>{fmtDateTime(x.updatedAt)}</td>
                  <td><button type="button" onClick={() => setEditing((e) => ({ template: x, n: e.n + 1 }))}>{tr('edit')}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
