// Providers: health as the dispatching process sees it (state, circuit, success rate, latency,
// in flight, last error), measured delivery quality per country over the last hour, and the
// account's prices per provider with a CSV import, and the run-time configuration read-only
// (ADMIN keys; configuration.tsx).
import { gql } from '../api.js';
import { addPage, fmtDateTime, fmtNumber, fmtPercent } from '../i18n.js';
import { DataTable, Status, useLoad, type PageProps } from '../ui.js';
import { ConfigurationView, PriceImport } from './configuration.js';

const tr = addPage('providers', {
  en: {
    title: 'Providers', name: 'Provider', state: 'State', circuit: 'Circuit', success: 'Submit success', latency: 'Latency p50 / p95 ms',
    inFlight: 'In flight', lastError: 'Last error', quality: 'Delivery quality, last hour', country: 'Country', submitted: 'Submitted',
    delivered: 'Delivered', rate: 'Delivery rate', p50: 'Median delivery ms', prices: 'Prices', price: 'Price per segment', prefix: 'Prefix',
    from: 'In effect from', noQuality: 'No deliveries measured in the last hour.', noPrices: 'No prices set.', pricesAdmin: 'Prices need an ADMIN key.',
  },
  zh: {
    title: '通道', name: '通道', state: '状态', circuit: '熔断器', success: '提交成功率', latency: '延迟 p50 / p95 毫秒',
    inFlight: '处理中', lastError: '最近错误', quality: '近一小时送达质量', country: '国家/地区', submitted: '已提交',
    delivered: '已送达', rate: '送达率', p50: '送达耗时中位数（毫秒）', prices: '价格', price: '单条价格', prefix: '号段',
    from: '生效时间', noQuality: '近一小时没有送达记录。', noPrices: '尚未设置价格。', pricesAdmin: '查看价格需要 ADMIN 密钥。',
  },
});

interface Figures { submitted: number; delivered: number; deliveryRate: number | null; deliveryP50Ms: number | null }
interface Provider {
  name: string; state: string; circuit: string; successRate: number | null; latencyP50Ms: number | null; latencyP95Ms: number | null;
  inFlight: number; lastError: string | null; lastErrorAt: string | null; quality: { country: string; lastHour: Figures }[];
}
interface Price { id: string; provider: string; country: string; prefix: string | null; currency: string; pricePerSegment: string; effectiveFrom: string }
const QUERY = `{ providers { name state circuit successRate latencyP50Ms latencyP95Ms inFlight lastError lastErrorAt
  quality { country lastHour { submitted delivered deliveryRate deliveryP50Ms } } } }`;

export function Providers({ admin }: PageProps) {
  const loaded = useLoad(() => gql<{ providers: Provider[] }>(QUERY), []);
  const prices = useLoad(() => (admin ? gql<{ prices: Price[] }>('{ prices { id provider country prefix currency pricePerSegment effectiveFrom } }').then((d) => d.prices) : Promise.resolve([])), [admin]);
  const providers = loaded.data?.providers ?? [];
  return (
    <>
      <section class="card wide">
        <h2>{tr('title')}</h2>
        <Status loaded={loaded} />
        <DataTable id="providers" heads={[tr('name'), tr('state'), tr('circuit'), tr('success'), tr('latency'), tr('inFlight'), tr('lastError')]}>
          {providers.map((p) => (
            <tr key={p.name} data-name={p.name}>
              <td>{p.name}</td><td class={`state-${p.state}`}>{p.state}</td><td class={`circuit-${p.circuit}`} data-testid="circuit">{p.circuit}</td>
              <td>{fmtPercent(p.successRate)}</td><td>{fmtNumber(p.latencyP50Ms)} / {fmtNumber(p.latencyP95Ms)}</td><td>{p.inFlight}</td>
              <td>{p.lastError ? `${p.lastError} (${fmtDateTime(p.lastErrorAt)})` : ''}</td>
            </tr>
          ))}
        </DataTable>
      </section>
      <section class="card wide">
        <h2>{tr('quality')}</h2>
        {loaded.data && !providers.some((p) => p.quality.length) && <p class="muted">{tr('noQuality')}</p>}
        <DataTable id="quality" heads={[tr('name'), tr('country'), tr('submitted'), tr('delivered'), tr('rate'), tr('p50')]}>
          {providers.flatMap((p) => p.quality.map((q) => (
            <tr key={`${p.name}-${q.country}`}>
              <td>{p.name}</td><td>{q.country}</td><td>{fmtNumber(q.lastHour.submitted)}</td><td>{fmtNumber(q.lastHour.delivered)}</td>
              <td>{fmtPercent(q.lastHour.deliveryRate)}</td><td>{fmtNumber(q.lastHour.deliveryP50Ms)}</td>
            </tr>
          )))}
        </DataTable>
      </section>
      <section class="card wide">
        <h2>{tr('prices')}</h2>
        {!admin ? <p class="muted">{tr('pricesAdmin')}</p> : (
          <>
            <Status loaded={prices} />
            {prices.data && !prices.data.length && <p class="muted">{tr('noPrices')}</p>}
            <DataTable id="prices" heads={[tr('name'), tr('country'), tr('prefix'), tr('price'), tr('from')]}>
              {(prices.data ?? []).map((p) => (
                <tr key={p.id}><td>{p.provider}</td><td>{p.country}</td><td>{p.prefix ?? ''}</td><td>{p.pricePerSegment} {p.currency}</td><td>{fmtDateTime(p.effectiveFrom)}</td></tr>
              ))}
            </DataTable>
            <PriceImport onImported={prices.reload} />
          </>
        )}
      </section>
      {admin && <ConfigurationView />}
    </>
  );
}
