// Stats from `messageStats`: over time (UTC days) as uPlot charts — volume, delivery rate and
// median time to delivery, overall, per provider and per country (the six largest; the rest as
// "others") — and tables by provider and by country. Redrawn (at most about once a second) as
// messages change live.
import { useEffect, useState } from 'preact/hooks';
import { gql, onMessageEvent } from '../api.js';
import { Chart, DAY, PALETTE } from '../chart.js';
import { addPage, fmtCountry, fmtNumber, fmtPercent } from '../i18n.js';
import { OTHER_KEY, seriesByKey, STATS_GROUP, type KeySeries, type StatsGroup } from '../series.js';
import { Status, useLoad } from '../ui.js';

const tr = addPage('stats', {
  en: {
    title: 'Stats', day: 'Day', range: 'Range', days_other: 'Last {{count}} days', volume: 'Volume per day', rate: 'Delivery rate per day (%)',
    median: 'Median seconds to delivery per day', providerVolume: 'Messages per provider per day', providerRate: 'Delivery rate per provider per day (%)', providerMedian: 'Median seconds to delivery per provider per day',
    countryVolume: 'Messages per country per day', countryRate: 'Delivery rate per country per day (%)', countryMedian: 'Median seconds to delivery per country per day',
    providerOverTime: 'By provider over time', countryOverTime: 'By country over time', other: 'Others', total: 'Messages', delivered: 'Delivered', byProvider: 'By provider', byCountry: 'By country',
    key: 'Name', deliveryRate: 'Delivery rate', medianS: 'Median s to delivery', segments: 'Segments', empty: 'No messages in the range.',
    totals_one: '{{count}} message · {{delivered}} delivered', totals_other: '{{count}} messages · {{delivered}} delivered',
    rateText: ' · {{rate}} delivery rate', medianText: ' · median {{s}} s to delivery',
  },
  zh: {
    title: '统计', day: '日期', range: '时间范围', days_other: '最近 {{count}} 天', volume: '每日发送量', rate: '每日送达率（%）',
    median: '每日送达耗时中位数（秒）', providerVolume: '各通道每日消息数', providerRate: '各通道每日送达率（%）', providerMedian: '各通道每日送达耗时中位数（秒）',
    countryVolume: '各国家/地区每日消息数', countryRate: '各国家/地区每日送达率（%）', countryMedian: '各国家/地区每日送达耗时中位数（秒）',
    providerOverTime: '按通道的趋势', countryOverTime: '按国家/地区的趋势', other: '其他', total: '消息数', delivered: '已送达', byProvider: '按通道', byCountry: '按国家/地区',
    key: '名称', deliveryRate: '送达率', medianS: '送达耗时中位数（秒）', segments: '计费条数', empty: '该时间范围内没有消息。',
    totals_one: '{{count}} 条消息 · 已送达 {{delivered}} 条', totals_other: '{{count}} 条消息 · 已送达 {{delivered}} 条',
    rateText: ' · 送达率 {{rate}}', medianText: ' · 送达耗时中位数 {{s}} 秒',
  },
});

type Group = StatsGroup;
const QUERY = `query($from: DateTime!, $to: DateTime!, $groupBy: StatsGroupBy!) { messageStats(from: $from, to: $to, groupBy: $groupBy) {
  totals { ${STATS_GROUP} } groups { ${STATS_GROUP} }
} }`;

async function load(days: number) {
  // Whole UTC days (the DAY keys are UTC), up to the next minute so a message just sent counts.
  const to = new Date(Date.now() + 60_000);
  const from = new Date(Math.floor(to.getTime() / DAY) * DAY - (days - 1) * DAY);
  const by = async (groupBy: string) => (await gql<{ messageStats: { totals: Group; groups: Group[] } }>(QUERY, { from, to, groupBy })).messageStats;
  const [byDay, byProvider, byCountry] = await Promise.all([by('DAY'), by('PROVIDER'), by('COUNTRY')]);
  // Days without messages are absent from the groups: zero them so the time axis is even.
  const index = new Map(byDay.groups.map((g) => [g.key, g]));
  const xs: number[] = [];
  const series = { total: [] as number[], delivered: [] as number[], rate: [] as (number | null)[], median: [] as (number | null)[] };
  for (let t = from.getTime(); t < to.getTime(); t += DAY) {
    const g = index.get(new Date(t).toISOString().slice(0, 10));
    xs.push(t / 1000);
    series.total.push(g?.total ?? 0);
    series.delivered.push(g?.delivered ?? 0);
    series.rate.push(g?.deliveryRate === null || g?.deliveryRate === undefined ? null : g.deliveryRate * 100);
    series.median.push(g?.medianSecondsToDelivery ?? null);
  }
  const starts = xs.map((x) => x * 1000);
  const [perProvider, perCountry] = await Promise.all([perDay('PROVIDER', starts, to), perDay('COUNTRY', starts, to)]);
  return { totals: byDay.totals, xs, series, perProvider, perCountry, byProvider: byProvider.groups, byCountry: byCountry.groups };
}

/**
 * One dimension (PROVIDER or COUNTRY) per day: `messageStats` groups by one dimension over a range,
 * so each day is one query, sent as aliases of one document (15 a request, under the server's alias
 * limit). The server aggregates; the page only lays the answers out as series (series.ts).
 */
async function perDay(groupBy: 'PROVIDER' | 'COUNTRY', days: number[], end: Date): Promise<Group[][]> {
  const out: Group[][] = [];
  for (let i = 0; i < days.length; i += 15) {
    const chunk = days.slice(i, i + 15);
    const fields = chunk.map((_, j) => `d${j}: messageStats(from: $f${j}, to: $t${j}, groupBy: ${groupBy}) { groups { ${STATS_GROUP} } }`).join('\n');
    const params = chunk.map((_, j) => `$f${j}: DateTime!, $t${j}: DateTime!`).join(', ');
    const vars: Record<string, Date> = {};
    chunk.forEach((day, j) => {
      vars[`f${j}`] = new Date(day);
      vars[`t${j}`] = new Date(Math.min(day + DAY, end.getTime()));
    });
    const data = await gql<Record<string, { groups: Group[] }>>(`query(${params}) { ${fields} }`, vars);
    chunk.forEach((_, j) => out.push(data[`d${j}`].groups));
  }
  return out;
}

/** Volume, delivery rate and median time to delivery per day, one line per key of a dimension. */
function PerKeyCharts({ prefix, perDay, xs, titles, name }: { prefix: string; perDay: Group[][]; xs: number[]; titles: { volume: string; rate: string; median: string }; name: (g: Group) => string }) {
  const keyed = seriesByKey(perDay, 6, name);
  if (!keyed.length) return null;
  const lines = (pick: (s: KeySeries) => (number | null)[]) => keyed.map((s, i) => ({
    label: s.key === OTHER_KEY ? tr('other') : s.label, values: pick(s), color: s.key === OTHER_KEY ? '#8a93a6' : PALETTE[i % PALETTE.length],
  }));
  return (
    <>
      <Chart testid={`chart-${prefix}-volume`} dayLabel={tr('day')} title={titles.volume} xs={xs} series={lines((s) => s.total)} />
      <Chart testid={`chart-${prefix}-rate`} dayLabel={tr('day')} title={titles.rate} xs={xs} max={100} series={lines((s) => s.rate)} />
      <Chart testid={`chart-${prefix}-median`} dayLabel={tr('day')} title={titles.median} xs={xs} series={lines((s) => s.median)} />
    </>
  );
}

function GroupTable({ title, groups, id }: { title: string; groups: Group[]; id: string }) {
  return (
    <div class="scroll">
      <h3>{title}</h3>
      {!groups.length ? <p class="muted">{tr('empty')}</p> : (
        <table id={id}>
          <thead><tr><th>{tr('key')}</th><th>{tr('total')}</th><th>{tr('delivered')}</th><th>{tr('deliveryRate')}</th><th>{tr('medianS')}</th><th>{tr('segments')}</th></tr></thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.key}>
                <td>{g.label ?? g.key}</td><td>{fmtNumber(g.total)}</td><td>{fmtNumber(g.delivered)}</td>
                <td><meter min={0} max={1} value={g.deliveryRate ?? 0} aria-hidden="true" /> {fmtPercent(g.deliveryRate)}</td>
                <td>{fmtNumber(g.medianSecondsToDelivery, 1)}</td><td>{fmtNumber(g.segments)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function Stats() {
  const [days, setDays] = useState(7);
  const loaded = useLoad(() => load(days), [days]);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = onMessageEvent(() => void (timer ??= setTimeout(() => ((timer = undefined), loaded.reload()), 1000)));
    return () => (stop(), clearTimeout(timer));
  }, [loaded.reload]);
  const d = loaded.data;
  return (
    <section class="card wide" id="stats-page">
      <h2>{tr('title')}</h2>
      <label class="inline-field">{tr('range')}{' '}
        <select id="stats-range" value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))}>
          {[7, 30, 90].map((n) => <option key={n} value={String(n)}>{tr('days', { count: n })}</option>)}
        </select>
      </label>
      <Status loaded={loaded} />
      {d && (
        <div id="stats">
          <p data-testid="stats-totals">
            {tr('totals', { count: d.totals.total, delivered: fmtNumber(d.totals.delivered) })}
            {d.totals.deliveryRate === null ? '' : tr('rateText', { rate: fmtPercent(d.totals.deliveryRate) })}
            {d.totals.medianSecondsToDelivery === null ? '' : tr('medianText', { s: fmtNumber(d.totals.medianSecondsToDelivery, 1) })}
          </p>
          <div class="charts" data-days={d.xs.length}>
            <Chart testid="chart-volume" dayLabel={tr('day')} title={tr('volume')} xs={d.xs} series={[
              { label: tr('total'), values: d.series.total, color: '#5b6b8c' }, { label: tr('delivered'), values: d.series.delivered, color: '#1f9d55' }]} />
            <Chart testid="chart-rate" dayLabel={tr('day')} title={tr('rate')} xs={d.xs} max={100} series={[{ label: tr('deliveryRate'), values: d.series.rate, color: '#2b6cb0' }]} />
            <Chart testid="chart-median" dayLabel={tr('day')} title={tr('median')} xs={d.xs} series={[{ label: tr('medianS'), values: d.series.median, color: '#b7791f' }]} />
          </div>
          <h3>{tr('providerOverTime')}</h3>
          <div class="charts">
            <PerKeyCharts prefix="provider" perDay={d.perProvider} xs={d.xs} name={(g) => g.key}
              titles={{ volume: tr('providerVolume'), rate: tr('providerRate'), median: tr('providerMedian') }} />
          </div>
          <h3>{tr('countryOverTime')}</h3>
          <div class="charts" id="country-charts">
            <PerKeyCharts prefix="country" perDay={d.perCountry} xs={d.xs} name={(g) => fmtCountry(g.key, g.label)}
              titles={{ volume: tr('countryVolume'), rate: tr('countryRate'), median: tr('countryMedian') }} />
          </div>
          <GroupTable id="by-provider" title={tr('byProvider')} groups={d.byProvider} />
          <GroupTable id="by-country" title={tr('byCountry')} groups={d.byCountry.map((g) => ({ ...g, label: fmtCountry(g.key, g.label) }))} />
        </div>
      )}
    </section>
  );
}
