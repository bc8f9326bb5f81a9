// One uPlot time chart over whole UTC days, sized to its container (so it fits 375 px) and
// redrawn when its data or the language change; dates and numbers per locale.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { fmtDay, fmtNumber, locale } from './i18n.js';

export const DAY = 86_400_000;
export const PALETTE = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b83280', '#2c7a7b', '#975a16', '#4a5568'];

export interface ChartSeries { label: string; values: (number | null)[]; color: string }

export function Chart({ title, xs, series, testid, max, dayLabel }: { title: string; xs: number[]; series: ChartSeries[]; testid: string; max?: number; dayLabel: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const width = Math.max(280, el.clientWidth || 600);
    const plot = new uPlot({
      width, height: 200, title,
      fmtDate: () => (d: Date) => fmtDay(d),
      // Whole days on the time axis (never the same day twice); a percentage stays within 0–100.
      scales: { x: { time: true }, y: max === undefined ? { range: (_u, _min, hi) => [0, Math.max(1, hi)] } : { range: [0, max] } },
      axes: [{ incrs: [DAY / 1000, (2 * DAY) / 1000, (7 * DAY) / 1000, (14 * DAY) / 1000, (30 * DAY) / 1000], values: (_u, ticks) => ticks.map((s) => fmtDay(new Date(s * 1000))) }, { values: (_u, ticks) => ticks.map((v) => fmtNumber(v, 2)) }],
      series: [{ label: dayLabel, value: (_u, v) => (v === null ? '' : fmtDay(new Date(v * 1000))) },
        ...series.map((s) => ({ label: s.label, stroke: s.color, fill: `${s.color}22`, width: 2, points: { show: true }, value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmtNumber(v, 1)) }))],
    }, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    return () => plot.destroy();
  }, [xs, series, title, max, locale()]);
  return <div class="chart" data-testid={testid} role="img" aria-label={title} ref={box} />;
}
