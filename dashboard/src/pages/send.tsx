// The send form: a live preview (`previewMessage`: segments, encoding and the characters that
// force UCS-2, sensitive words, warnings) while typing, then `sendMessage`, whose expected
// failures are shown with their stable code.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, gql } from '../api.js';
import { addPage, fmtDateTime, fmtMoney, fmtNumber } from '../i18n.js';
import { failure } from '../ui.js';

const tr = addPage('send', {
  en: {
    title: 'Send a message', to: 'To', body: 'Body', send: 'Send', sending: 'Sending…', accepted: 'Accepted: {{status}}',
    segments_one: '{{count}} segment', segments_other: '{{count}} segments', characters: '{{n}} characters', because: '(because of {{chars}})',
    sensitive: 'Sensitive words: {{words}}',
    budgetExceeded: 'refused by the {{period}} budget — nothing was stored or sent.', budgetSpent: 'Spent this period', budgetOf: '{{spent}} of {{limit}}',
    budgetRequested: 'This message would cost', DAILY: 'daily', MONTHLY: 'monthly', budgetResets: 'Resets', budgetLink: 'See the budgets',
  },
  zh: {
    title: '发送短信', to: '接收号码', body: '内容', send: '发送', sending: '发送中…', accepted: '已受理：{{status}}',
    segments_one: '{{count}} 条', segments_other: '{{count}} 条', characters: '{{n}} 个字符', because: '（因为 {{chars}}）',
    sensitive: '敏感词：{{words}}',
    budgetExceeded: '超出{{period}}预算，已拒绝——未保存也未发送。', budgetSpent: '本期已花费', budgetOf: '{{spent}} / {{limit}}',
    budgetRequested: '本条预估费用', DAILY: '每日', MONTHLY: '每月', budgetResets: '重置时间', budgetLink: '查看预算',
  },
});

export interface Preview { encoding: string; segments: number; characters: number; sensitiveWords: string[]; warnings: string[]; nonGsmCharacters: string[] }
export const PREVIEW = `query($input: PreviewInput!) { previewMessage(input: $input) { encoding segments characters sensitiveWords warnings nonGsmCharacters } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  __typename
  ... on SendMessageSuccess { data { id status } }
  ... on Error { code message }
  ... on ValidationError { issues { message } }
  ... on BudgetExceededError { period limit { amount currency } spent { amount currency } requested { amount currency } resetsAt }
} }`;

interface Money { amount: string; currency: string }
interface BudgetRefusal { code: string; message: string; period: 'DAILY' | 'MONTHLY'; limit: Money; spent: Money; requested: Money; resetsAt: string }

/** A send refused by a budget: which one, how far it is, what this send would cost, when it resets. */
function BudgetExceeded({ refusal }: { refusal: BudgetRefusal }) {
  return (
    <div id="budget-exceeded" class="refusal" role="alert">
      <p><strong>{refusal.code}</strong>: {tr('budgetExceeded', { period: tr(refusal.period) })}</p>
      <dl class="facts">
        <dt>{tr('budgetSpent')}</dt><dd data-testid="refusal-spent">{tr('budgetOf', { spent: fmtMoney(refusal.spent), limit: fmtMoney(refusal.limit) })}</dd>
        <dt>{tr('budgetRequested')}</dt><dd data-testid="refusal-requested">{fmtMoney(refusal.requested)}</dd>
        <dt>{tr('budgetResets')}</dt><dd>{fmtDateTime(refusal.resetsAt)}</dd>
      </dl>
      <p><a href="/dashboard/budgets">{tr('budgetLink')}</a></p>
    </div>
  );
}

/** Segments, characters, encoding, sensitive words and warnings of a body. */
export function PreviewView({ preview }: { preview: Preview | null }) {
  if (!preview) return null;
  return (
    <>
      <div data-testid="preview">
        <span data-testid="segments">{tr('segments', { count: preview.segments })}</span>
        {` · ${tr('characters', { n: fmtNumber(preview.characters) })} · ${preview.encoding}`}
        {preview.nonGsmCharacters.length ? ` ${tr('because', { chars: preview.nonGsmCharacters.join(' ') })}` : ''}
      </div>
      {preview.sensitiveWords.length > 0 && <div class="warn" data-testid="sensitive">{tr('sensitive', { words: preview.sensitiveWords.join(', ') })}</div>}
      {preview.warnings.map((w) => <div key={w} class="warn">{w}</div>)}
    </>
  );
}

/** Asks for a preview 200 ms after the last keystroke; only the newest answer is shown. */
export function usePreview(input: Record<string, unknown> | null): { preview: Preview | null; error: string } {
  const [state, setState] = useState<{ preview: Preview | null; error: string }>({ preview: null, error: '' });
  const asked = useRef(0);
  const key = JSON.stringify(input);
  useEffect(() => {
    if (!input) return void setState({ preview: null, error: '' });
    const mine = ++asked.current;
    const timer = setTimeout(() => {
      gql<{ previewMessage: Preview }>(PREVIEW, { input }).then(
        (d) => mine === asked.current && setState({ preview: d.previewMessage, error: '' }),
        (e: Error) => mine === asked.current && setState({ preview: null, error: e.message }),
      );
    }, 200);
    return () => clearTimeout(timer);
  }, [key]);
  return state;
}

export function Send() {
  const [to, setTo] = useState('');
  const [body, setBody] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [refusal, setRefusal] = useState<BudgetRefusal | null>(null);
  const { preview, error } = usePreview(body ? { body, ...(to.trim() ? { to: to.trim() } : {}) } : null);
  return (
    <section class="card">
      <h2>{tr('title')}</h2>
      <form id="send" onSubmit={async (event) => {
        event.preventDefault();
        setResult({ ok: true, text: tr('sending') });
        setRefusal(null);
        try {
          const r = (await gql(SEND, { input: { to: to.trim(), body } })).sendMessage;
          if (r.__typename === 'BudgetExceededError') setRefusal(r);
          if (r.data) {
            setResult({ ok: true, text: tr('accepted', { status: r.data.status }) });
            setBody('');
          } else setResult({ ok: false, text: failure(r) });
        } catch (e) {
          setResult({ ok: false, text: e instanceof ApiError ? e.message : 'Herald could not be reached' });
        }
      }}>
        <label>{tr('to')} <input name="to" placeholder="+8613800138000" required value={to} onInput={(e) => setTo(e.currentTarget.value)} /></label>
        <label>{tr('body')} <textarea name="body" rows={4} required value={body} onInput={(e) => setBody(e.currentTarget.value)} /></label>
        <div id="preview" aria-live="polite">
          <PreviewView preview={preview} />
          {error && <div class="warn">{error}</div>}
        </div>
        <button type="submit">{tr('send')}</button>
        <p id="send-result" role="status" class={result ? (result.ok ? 'ok' : 'err') : ''}>{result?.text ?? ''}</p>
        {refusal && <BudgetExceeded refusal={refusal} />}
      </form>
    </section>
  );
}
