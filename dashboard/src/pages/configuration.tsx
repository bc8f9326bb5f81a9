// Parts of the providers page for ADMIN keys: importing a CSV price list (`importPrices`, all or
// nothing; each broken line is shown with its number, column and text), and the run-time
// configuration read-only (`configuration`: provider definitions without their credentials, and
// the routing document in force) for the operator's keys.
import { useState } from 'preact/hooks';
import { ApiError, gql } from '../api.js';
import { csvIssues, type CsvIssue } from '../csv.js';
import { addPage, fmtDateTime, fmtNumber } from '../i18n.js';
import { DataTable, failure, Status, useLoad, type UnionResult } from '../ui.js';

const tr = addPage('configuration', {
  en: {
    importTitle: 'Import prices (CSV)', csv: 'CSV price list', file: 'Or read a file', replace: 'Replace every price of the account (prices not in the file are deleted)',
    import: 'Import', imported: 'Imported: {{created}} new, {{replaced}} replaced, {{removed}} removed.', refused: '{{code}}: nothing was imported.',
    line: 'Line {{line}}', column: 'column {{column}}', header: 'The first line is the header: provider,country,prefix,currency,price,effective_from (prefix and effective_from may be empty).',
    config: 'Run-time configuration', version: 'Version {{version}}', dispatching: 'in force where messages are dispatched: version {{version}}',
    definitions: 'Provider definitions', name: 'Name', kind: 'Kind', source: 'Source', enabled: 'Enabled', settings: 'Settings', credentials: 'Credentials (set, never shown)',
    routing: 'Routing document', problem: 'Not in force: {{problem}}', operatorOnly: 'Only the operator’s ADMIN keys see the run-time configuration.', yes: 'yes', no: 'no',
  },
  zh: {
    importTitle: '导入价格（CSV）', csv: 'CSV 价格表', file: '或读取文件', replace: '替换账户的全部价格（文件中没有的价格将被删除）',
    import: '导入', imported: '已导入：新增 {{created}}，替换 {{replaced}}，删除 {{removed}}。', refused: '{{code}}：未导入任何价格。',
    line: '第 {{line}} 行', column: '列 {{column}}', header: '第一行是表头：provider,country,prefix,currency,price,effective_from（prefix 和 effective_from 可留空）。',
    config: '运行时配置', version: '版本 {{version}}', dispatching: '派发进程当前生效版本：{{version}}',
    definitions: '通道定义', name: '名称', kind: '类型', source: '来源', enabled: '启用', settings: '设置', credentials: '凭据（已设置，不显示）',
    routing: '路由文档', problem: '未生效：{{problem}}', operatorOnly: '只有运营方账户的 ADMIN 密钥可以查看运行时配置。', yes: '是', no: '否',
  },
});

const IMPORT = `mutation($csv: String!, $replace: Boolean) { importPrices(csv: $csv, replace: $replace) {
  __typename ... on ImportPricesSuccess { data { created replaced removed } } ... on Error { code message } ... on ValidationError { issues { message path } } } }`;

/** The CSV import; `onImported` reloads the price table. */
export function PriceImport({ onImported }: { onImported: () => void }) {
  const [csv, setCsv] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string; issues: CsvIssue[] } | null>(null);
  return (
    <form id="import-prices" onSubmit={async (e) => {
      e.preventDefault();
      const replace = new FormData(e.currentTarget).get('replace') === 'on';
      try {
        const r = (await gql<{ importPrices: UnionResult & { data?: { created: number; replaced: number; removed: number }; issues?: { message: string; path: string[] }[] } }>(IMPORT, { csv, replace })).importPrices;
        if (r.data) {
          setResult({ ok: true, text: tr('imported', { created: fmtNumber(r.data.created), replaced: fmtNumber(r.data.replaced), removed: fmtNumber(r.data.removed) }), issues: [] });
          onImported();
        } else if (r.issues) setResult({ ok: false, text: tr('refused', { code: r.code }), issues: csvIssues(csv, r.issues) });
        else setResult({ ok: false, text: failure(r), issues: [] });
      } catch (err) {
        setResult({ ok: false, text: (err as Error).message, issues: [] });
      }
    }}>
      <h3>{tr('importTitle')}</h3>
      <p class="muted">{tr('header')}</p>
      <label>{tr('csv')}
        <textarea name="csv" rows={6} required spellcheck={false} class="mono" value={csv} onInput={(e) => setCsv(e.currentTarget.value)}
          placeholder={'provider,country,prefix,currency,price,effective_from\nsimulator,US,,USD,0.0079,'} aria-describedby={result?.issues.length ? 'import-issues' : undefined} />
      </label>
      <label>{tr('file')} <input type="file" name="file" accept=".csv,text/csv" onChange={async (e) => {
        const file = e.currentTarget.files?.[0];
        if (file) setCsv(await file.text());
      }} /></label>
      <label class="check"><input type="checkbox" name="replace" /> {tr('replace')}</label>
      <button type="submit">{tr('import')}</button>
      {result && <p id="import-result" role="status" class={result.ok ? 'ok' : 'err'}>{result.text}</p>}
      {result && result.issues.length > 0 && (
        <ul id="import-issues" class="issues">
          {result.issues.map((i, n) => (
            <li key={n} data-line={i.line ?? ''}>
              {i.line !== null && <strong>{tr('line', { line: i.line })}{i.column ? `, ${tr('column', { column: i.column })}` : ''}: </strong>}
              {i.message}
              {i.text !== null && <pre data-testid="issue-line">{i.text}</pre>}
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

interface Definition { name: string; kind: string; source: string; enabled: boolean; settings: unknown; credentialFields: string[]; updatedAt: string | null }
interface Configuration { version: number; dispatchingVersion: number | null; providers: Definition[]; routing: { source: string; document: unknown; problem: string | null } }

/** Read-only: changing it is the API's (setRouting, addProvider…; docs/providers.md). */
export function ConfigurationView() {
  const loaded = useLoad(() => gql<{ configuration: Configuration }>(`{ configuration { version dispatchingVersion
    providers { name kind source enabled settings credentialFields updatedAt } routing { source document problem } } }`)
    .then((d) => d.configuration, (e) => {
      // Another account's ADMIN key: not an error of the page, just not theirs to see.
      if (e instanceof ApiError && e.codes.includes('FORBIDDEN')) return null;
      throw e;
    }), []);
  const c = loaded.data;
  return (
    <section class="card wide" id="configuration">
      <h2>{tr('config')}</h2>
      <Status loaded={loaded} />
      {!loaded.loading && !loaded.error && !c && <p class="muted">{tr('operatorOnly')}</p>}
      {c && (
        <>
          <p data-testid="config-version">{tr('version', { version: c.version })}{c.dispatchingVersion === null ? '' : ` · ${tr('dispatching', { version: c.dispatchingVersion })}`}</p>
          <h3>{tr('definitions')}</h3>
          <DataTable id="definitions" heads={[tr('name'), tr('kind'), tr('source'), tr('enabled'), tr('settings'), tr('credentials')]}>
            {c.providers.map((p) => (
              <tr key={p.name} data-name={p.name}>
                <td>{p.name}</td><td>{p.kind}</td><td>{p.source}{p.updatedAt ? ` (${fmtDateTime(p.updatedAt)})` : ''}</td><td>{p.enabled ? tr('yes') : tr('no')}</td>
                <td><code class="json">{JSON.stringify(p.settings)}</code></td><td>{p.credentialFields.join(', ')}</td>
              </tr>
            ))}
          </DataTable>
          <h3>{tr('routing')} ({c.routing.source})</h3>
          {c.routing.problem && <p class="warn" role="alert">{tr('problem', { problem: c.routing.problem })}</p>}
          <pre id="routing-document" class="json scroll" tabIndex={0}>{JSON.stringify(c.routing.document, null, 2)}</pre>
        </>
      )}
    </section>
  );
}
