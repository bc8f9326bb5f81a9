// Stats from `messageStats`: over time (UTC days) as uPlot charts — volume, delivery rate and
// median time to delivery, and volume and delivery rate per provider — and tables by provider
// and by country. Redrawn (at most about once
// a second) as messages change live.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { gql, onMessageEvent } from '../api.js';
import { addPage, fmtDay, fmtNumber, fmtPercent, locale } from '../i18n.js';
import { Status, useLoad } from '../ui.js';

const tr = addPage('stats', {
  en: {
    title: 'Stats', day: 'Day', range: 'Range', days_other: 'Last {{count}} days', volume: 'Volume per day', rate: 'Delivery rate per day (%)',
    median: 'Median seconds to delivery per day', providerVolume: 'Messages per provider per day', providerRate: 'Delivery rate per provider per day (%)', total: 'Messages', delivered: 'Delivered', byProvider: 'By provider', byCountry: 'By country',
    key: 'Name', deliveryRate: 'Delivery rate', medianS: 'Median s to delivery', segments: 'Segments', empty: 'No messages in the range.',
    totals_one: '{{count}} message · {{delivered}} delivered', totals_other: '{{count}} messages · {{delivered}} delivered',
    rateText: ' · {{rate}} delivery rate', medianText: ' · median {{s}} s to delivery',
  },
  zh: {
    title: '统计', day: '日期', range: '时间范围', days_other: '最近 {{count}} 天', volume: '每日发送量', rate: '每日送达率（%）',
    median: '每日送达耗时中位数（秒）', providerVolume: '各通道每日消息数', providerRate: '各通道每日送达率（%）', total: '消息数', delivered: '已送达', byProvider: '按通道', byCountry: '按国家/地区',
    key: '名称', deliveryRate: '送达率', medianS: '送达耗时中位数（秒）', segments: '计费条数', empty: '该时间范围内没有消息。',
    totals_one: '{{count}} 条消息 · 已送达 {{delivered}} 条', totals_other: '{{count}} 条消息 · 已送达 {{delivered}} 条',
    rateText: ' · 送达率 {{rate}}', medianText: ' · 送达耗时中位数 {{s}} 秒',
  },
});

interface Group { key: string; label: string | null; total: number; delivered: number; segments: number; deliveryRate: number | null; medianSecondsToDelivery: number | null }
const GROUP = 'key label total delivered segments deliveryRate medianSecondsToDelivery';
const QUERY = `query($from: DateTime!, $to: DateTime!, $groupBy: StatsGroupBy!) { messageStats(from: $from, to: $to, groupBy: $groupBy) {
  totals { ${GROUP} } groups { ${GROUP} }
} }`;
const DAY = 86_400_000;

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
  const perProvider = await providersPerDay(xs.map((x) => x * 1000), to);
  return { totals: byDay.totals, xs, series, perProvider, byProvider: byProvider.groups, byCountry: byCountry.groups };
}

const PALETTE = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b83280', '#2c7a7b', '#975a16', '#4a5568'];

/**
 * Per provider and day: `messageStats` groups by one dimension over a range, so each day is one
 * PROVIDER query, sent as aliases of one document (15 a request, under the server's alias limit).
 */
async function providersPerDay(days: number[], end: Date) {
  const perDay: Group[][] = [];
  for (let i = 0; i < days.length; i += 15) {
    const chunk = days.slice(i, i + 15);
    const fields = chunk.map((_, j) => `d${j}: messageStats(from: $f${j}, to: $t${j}, groupBy: PROVIDER) { groups { ${GROUP} } }`).join('\n');
    const params = chunk.map((_, j) => `$f${j}: DateTime!, $t${j}: DateTime!`).join(', ');
    const vars: Record<string, Date> = {};
    chunk.forEach((day, j) => {
      vars[`f${j}`] = new Date(day);
      vars[`t${j}`] = new Date(Math.min(day + DAY, end.getTime()));
    });
    const data = await gql<Record<string, { groups: Group[] }>>(`query(${params}) { ${fields} }`, vars);
    chunk.forEach((_, j) => perDay.push(data[`d${j}`].groups));
  }
  const names = [...new Set(perDay.flat().map((g) => g.key))].sort();
  return names.map((name, i) => {
    const at = perDay.map((groups) => groups.find((g) => g.key === name));
    return {
      name, color: PALETTE[i % PALETTE.length],
      total: at.map((g) => g?.total ?? 0),
      rate: at.map((g) => (g?.deliveryRate === null || g?.deliveryRate === undefined ? null : g.deliveryRate * 100)),
    };
  });
}

/** One uPlot chart, sized to its container (so it fits 375 px), redrawn when data or language change. */
function Chart({ title, xs, series, testid, max }: { title: string; xs: number[]; series: { label: string; values: (number | null)[]; color: string }[]; testid: string; max?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const width = Math.max(280, el.clientWidth || 600);
    const plot = new uPlot({
      width, height: 200, title,
      fmtDate: () => (d: Date) => fmtDay(d),
      // Whole days on the time axis (never the same day twice); a percentage stays within 0–100.
      scales: { x: { time: true }, y: max === undefined ? { range: (_u, _min, hi) => [0, Math.max(1, hi)] } : { range: [0, max] } },
      axes: [{ incrs: [DAY / 1000, (2 * DAY) / 1000, (7 * DAY) / 1000, (14 * DAY) / 1000, (30 * DAY) / 1000], values: (_u, ticks) => ticks.map((s) => fmtDay(new Date(s * 1000))) }, { values: (_u, ticks) => ticks.map((v) => fmtNumber(v, 1)) }],
      series: [{ label: tr('day'), value: (_u, v) => (v === null ? '' : fmtDay(new Date(v * 1000))) },
        ...series.map((s) => ({ label: s.label, stroke: s.color, fill: `${s.color}22`, width: 2, points: { show: true }, value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmtNumber(v, 1)) }))],
    }, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    return () => plot.destroy();
  }, [xs, series, title, max, locale()]);
  return <div class="chart" data-testid={testid} role="img" aria-label={title} ref={box} />;
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
            <Chart testid="chart-volume" title={tr('volume')} xs={d.xs} series={[
              { label: tr('total'), values: d.series.total, color: '#5b6b8c' }, { label: tr('delivered'), values: d.series.delivered, color: '#1f9d55' }]} />
            <Chart testid="chart-rate" title={tr('rate')} xs={d.xs} max={100} series={[{ label: tr('deliveryRate'), values: d.series.rate, color: '#2b6cb0' }]} />
            {d.perProvider.length > 0 && (
              <>
                <Chart testid="chart-provider-volume" title={tr('providerVolume')} xs={d.xs}
                  series={d.perProvider.map((p) => ({ label: p.name, values: p.total, color: p.color }))} />
                <Chart testid="chart-provider-rate" title={tr('providerRate')} xs={d.xs} max={100}
                  series={d.perProvider.map((p) => ({ label: p.name, values: p.rate, color: p.color }))} />
              </>
            )}
            <Chart testid="chart-median" title={tr('median')} xs={d.xs} series={[{ label: tr('medianS'), values: d.series.median, color: '#b7791f' }]} />
          </div>
          <GroupTable id="by-provider" title={tr('byProvider')} groups={d.byProvider} />
          <GroupTable id="by-country" title={tr('byCountry')} groups={d.byCountry} />
        </div>
      )}
    </section>
  );
}
