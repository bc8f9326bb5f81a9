// Budgets (ADMIN): the account's daily and monthly spending limits with what the current period
// has spent (intake estimates), when it resets, and the messages it could not count; set one
// (replacing its limit and currency) or remove one (after confirming). A refused input shows its
// code next to the field it is about.
import { useState } from 'preact/hooks';
import { gql } from '../api.js';
import { addPage, fmtDateTime, fmtMoney, fmtNumber, fmtPercent, t } from '../i18n.js';
import { Confirm, DataTable, failure, FieldError, formErrors, Status, useLoad, type PageProps, type UnionResult } from '../ui.js';

const tr = addPage('budgets', {
  en: {
    title: 'Budgets', period: 'Period', DAILY: 'Daily', MONTHLY: 'Monthly', limit: 'Limit', currency: 'Currency', spent: 'Spent', set: 'Set budget',
    periodStart: 'Period started', resetsAt: 'Resets', updatedAt: 'Limit set', uncounted: 'Not counted', uncountedHelp: 'messages without a known price in this currency',
    remove: 'Remove', removeConfirm: 'Remove the {{period}} budget? Sends are no longer limited by it.', confirm: 'Confirm remove', cancel: 'Cancel', none: 'No budget: sends are not limited by cost.',
    of: '{{spent}} of {{limit}}', help: 'Periods are UTC days and months. Only estimated costs in the budget’s currency count; "0" refuses every priced send.',
    actions: 'Actions',
  },
  zh: {
    title: '预算', period: '周期', DAILY: '每日', MONTHLY: '每月', limit: '上限', currency: '币种', spent: '已花费', set: '设置预算',
    periodStart: '本期开始', resetsAt: '重置时间', updatedAt: '设置时间', uncounted: '未计入', uncountedHelp: '没有该币种已知价格的消息数',
    remove: '移除', removeConfirm: '移除{{period}}预算？发送将不再受其限制。', confirm: '确认移除', cancel: '取消', none: '未设置预算：发送不受费用限制。',
    of: '{{spent}} / {{limit}}', help: '周期按 UTC 日和月计算。只计入该币种的预估费用；上限为 "0" 时拒绝所有有价格的发送。',
    actions: '操作',
  },
});

interface Money { amount: string; currency: string }
interface Budget { period: 'DAILY' | 'MONTHLY'; limit: Money; spent: Money; uncountedMessages: number; periodStart: string; resetsAt: string; updatedAt: string }
const MONEY = '{ amount currency }';
const BUDGET = `period limit ${MONEY} spent ${MONEY} uncountedMessages periodStart resetsAt updatedAt`;
// Only unions that have ValidationError may spread it (a GraphQL validation error otherwise).
const ERR_PLAIN = '__typename ... on Error { code message }';
const ERR = `${ERR_PLAIN} ... on ValidationError { issues { message path } }`;
const FIELDS = ['period', 'limit', 'currency'];

/** Spent over limit for the meter: decimals as floats are fine for a bar (the text is exact). */
const used = (b: Budget): number => {
  const limit = Number(b.limit.amount);
  const spent = Number(b.spent.amount);
  return limit > 0 ? spent / limit : spent > 0 ? 1 : 0;
};

function SetBudget({ onDone }: { onDone: () => void }) {
  const [errors, setErrors] = useState<{ fields: Record<string, string>; general: string }>({ fields: {}, general: '' });
  const described = (field: string) => (errors.fields[field] ? `set-budget-${field}-error` : undefined);
  return (
    <form id="set-budget" class="row" onSubmit={async (e) => {
      e.preventDefault();
      const f = new FormData(e.currentTarget);
      const input = { period: String(f.get('period')), limit: String(f.get('limit')).trim(), currency: String(f.get('currency')).trim().toUpperCase() };
      try {
        const r = (await gql<{ setBudget: UnionResult }>(`mutation($input: SetBudgetInput!) { setBudget(input: $input) { ${ERR} } }`, { input })).setBudget;
        setErrors(formErrors(r, FIELDS));
        if (r.__typename.endsWith('Success')) onDone();
      } catch (err) {
        setErrors({ fields: {}, general: (err as Error).message });
      }
    }}>
      <label>{tr('period')}
        <select name="period" aria-describedby={described('period')}><option value="DAILY">{tr('DAILY')}</option><option value="MONTHLY">{tr('MONTHLY')}</option></select>
        <FieldError id="set-budget-period" text={errors.fields.period} />
      </label>
      <label>{tr('limit')}
        <input name="limit" required inputMode="decimal" placeholder="250.00" aria-invalid={!!errors.fields.limit} aria-describedby={described('limit')} />
        <FieldError id="set-budget-limit" text={errors.fields.limit} />
      </label>
      <label>{tr('currency')}
        <input name="currency" required defaultValue="USD" maxLength={3} autocapitalize="characters" aria-invalid={!!errors.fields.currency} aria-describedby={described('currency')} />
        <FieldError id="set-budget-currency" text={errors.fields.currency} />
      </label>
      <button type="submit">{tr('set')}</button>
      {errors.general && <p class="err" role="alert" data-testid="form-error">{errors.general}</p>}
    </form>
  );
}

export function Budgets({ admin }: PageProps) {
  const loaded = useLoad(() => (admin ? gql<{ budgets: Budget[] }>(`{ budgets { ${BUDGET} } }`).then((d) => d.budgets) : Promise.resolve([])), [admin]);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  if (!admin) return <section class="card wide"><h2>{tr('title')}</h2><p class="muted">{t('adminOnly')}</p></section>;
  const remove = async (period: string) => {
    setConfirming(null);
    try {
      const r = (await gql<{ removeBudget: UnionResult }>(`mutation($period: BudgetPeriod!) { removeBudget(period: $period) { ${ERR_PLAIN} } }`, { period })).removeBudget;
      setMessage(r.__typename.endsWith('Success') ? '' : failure(r));
    } catch (e) {
      setMessage((e as Error).message);
    }
    loaded.reload();
  };
  return (
    <section class="card wide" id="budgets-page">
      <h2>{tr('title')}</h2>
      <p class="muted">{tr('help')}</p>
      <SetBudget onDone={() => (setMessage(''), loaded.reload())} />
      {message && <p class="err" role="alert">{message}</p>}
      <Status loaded={loaded} />
      {loaded.data && !loaded.data.length && <p class="muted">{tr('none')}</p>}
      <DataTable id="budgets" heads={[tr('period'), tr('spent'), tr('uncounted'), tr('periodStart'), tr('resetsAt'), tr('updatedAt'), tr('actions')]}>
        {(loaded.data ?? []).map((b) => (
          <tr key={b.period} data-period={b.period}>
            <td>{tr(b.period)}</td>
            <td data-testid="budget-spent">
              <meter min={0} max={1} low={0.8} high={0.95} optimum={0} value={Math.min(1, used(b))} aria-hidden="true" />{' '}
              {tr('of', { spent: fmtMoney(b.spent), limit: fmtMoney(b.limit) })} ({fmtPercent(used(b))})
            </td>
            <td title={tr('uncountedHelp')}>{fmtNumber(b.uncountedMessages)}</td>
            <td>{fmtDateTime(b.periodStart)}</td>
            <td data-testid="budget-resets">{fmtDateTime(b.resetsAt)}</td>
            <td>{fmtDateTime(b.updatedAt)}</td>
            <td>
              {confirming === b.period ? (
                <Confirm question={tr('removeConfirm', { period: tr(b.period) })} confirm={tr('confirm')} cancel={tr('cancel')}
                  onConfirm={() => void remove(b.period)} onCancel={() => setConfirming(null)} />
              ) : <button type="button" aria-label={`${tr('remove')} ${tr(b.period)}`} onClick={() => setConfirming(b.period)}>{tr('remove')}</button>}
            </td>
          </tr>
        ))}
      </DataTable>
    </section>
  );
}
