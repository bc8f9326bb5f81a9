// Charts of `messageStats`: plain SVG bars (no chart library: the page must bundle everything).
import { gql } from './api.js';
import { $, h } from './dom.js';

interface Group { key: string; label: string | null; total: number; delivered: number; deliveryRate: number | null; medianSecondsToDelivery: number | null }
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Horizontal bars, one per group: total in grey, delivered in green on top. */
function barChart(title: string, groups: Group[]): HTMLElement {
  const max = Math.max(1, ...groups.map((g) => g.total));
  const rowHeight = 20;
  const chart = svg('svg', { width: '100%', height: groups.length * rowHeight + 4, viewBox: `0 0 600 ${groups.length * rowHeight + 4}`, role: 'img' });
  groups.forEach((g, i) => {
    const y = i * rowHeight + 2;
    const width = (n: number) => Math.max(n ? 1 : 0, (n / max) * 380);
    chart.append(
      svg('text', { x: 0, y: y + 13 }, (g.label ?? g.key).slice(0, 22)),
      svg('rect', { x: 150, y, width: width(g.total), height: rowHeight - 6, fill: '#c9d2e3' }),
      svg('rect', { x: 150, y, width: width(g.delivered), height: rowHeight - 6, fill: '#1f9d55' }),
      svg('text', { x: 155 + width(g.total), y: y + 13 },
        `${g.total}${g.deliveryRate === null ? '' : ` · ${Math.round(g.deliveryRate * 100)}% delivered`}`));
  });
  return h('div', { class: 'chart' }, h('h3', {}, title), groups.length ? chart : h('p', { class: 'muted' }, 'No messages in the range.'));
}

const QUERY = `query($from: DateTime!, $to: DateTime!, $groupBy: StatsGroupBy!) { messageStats(from: $from, to: $to, groupBy: $groupBy) {
  ... on MessageStatsSuccess { data { totals { total delivered deliveryRate medianSecondsToDelivery } groups { key label total delivered deliveryRate medianSecondsToDelivery } } }
  ... on Error { code message }
} }`;

export async function loadStats(): Promise<void> {
  const to = new Date(Date.now() + 60_000);
  const from = new Date(to.getTime() - 7 * 86_400_000);
  const by = async (groupBy: string) => (await gql(QUERY, { from, to, groupBy })).messageStats as { data?: { totals: Group; groups: Group[] }; code?: string; message?: string };
  const [days, providers, statuses] = await Promise.all([by('DAY'), by('PROVIDER'), by('STATUS')]);
  const panel = $('#stats');
  if (!days.data) return void panel.replaceChildren(h('p', { class: 'err' }, `${days.code}: ${days.message}`));
  const t = days.data.totals;
  panel.replaceChildren(
    h('p', { 'data-testid': 'stats-totals' }, `${t.total} messages · ${t.delivered} delivered`,
      t.deliveryRate === null ? '' : ` · ${Math.round(t.deliveryRate * 100)}% delivery rate`,
      t.medianSecondsToDelivery === null ? '' : ` · median ${t.medianSecondsToDelivery.toFixed(1)} s to delivery`),
    barChart('By day', days.data.groups),
    barChart('By provider', providers.data?.groups ?? []),
    barChart('By status', statuses.data?.groups ?? []));
}
