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
  const chart = svg('svg', { width: 600, height: groups.length * rowHeight + 4, role: 'img' });
  groups.forEach((g, i) => {
    const y = i * rowHeight + 2;
    // 300 px of bar leaves room within the 600 px for the longest label ("12345 · 100% delivered").
    const width = (n: number) => Math.max(n ? 1 : 0, (n / max) * 300);
    chart.append(
      svg('text', { x: 0, y: y + 13 }, (g.label ?? g.key).slice(0, 22)),
      svg('rect', { x: 150, y, width: width(g.total), height: rowHeight - 6, fill: '#c9d2e3' }),
      svg('rect', { x: 150, y, width: width(g.delivered), height: rowHeight - 6, fill: '#1f9d55' }),
      svg('text', { x: 155 + width(g.total), y: y + 13 },
        `${g.total}${g.deliveryRate === null ? '' : ` · ${Math.round(g.deliveryRate * 100)}% delivered`}`));
  });
  return h('div', { class: 'chart' }, h('h3', {}, title), groups.length ? chart : h('p', { class: 'muted' }, 'No messages in the range.'));
}

const GROUP = 'key label total delivered deliveryRate medianSecondsToDelivery';
const QUERY = `query($from: DateTime!, $to: DateTime!, $groupBy: StatsGroupBy!) { messageStats(from: $from, to: $to, groupBy: $groupBy) {
  totals { ${GROUP} } groups { ${GROUP} }
} }`;

export async function loadStats(): Promise<void> {
  const to = new Date(Date.now() + 60_000);
  const from = new Date(to.getTime() - 7 * 86_400_000);
  // A bad range is a GraphQL error (VALIDATION_FAILED): gql throws it and the caller shows it.
  const by = async (groupBy: string) => (await gql(QUERY, { from, to, groupBy })).messageStats as { totals: Group; groups: Group[] };
  const [days, providers, statuses] = await Promise.all([by('DAY'), by('PROVIDER'), by('STATUS')]);
  const t = days.totals;
  $('#stats').replaceChildren(
    h('p', { 'data-testid': 'stats-totals' }, `${t.total} ${t.total === 1 ? 'message' : 'messages'} · ${t.delivered} delivered`,
      t.deliveryRate === null ? '' : ` · ${Math.round(t.deliveryRate * 100)}% delivery rate`,
      t.medianSecondsToDelivery === null ? '' : ` · median ${t.medianSecondsToDelivery.toFixed(1)} s to delivery`),
    barChart('By day', days.groups),
    barChart('By provider', providers.groups),
    barChart('By status', statuses.groups));
}
