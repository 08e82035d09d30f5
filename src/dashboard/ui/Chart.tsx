import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { formatDay, formatHour, formatNumber } from './format.js';

export interface ChartSeries {
  label: string;
  values: number[];
  /** A level (subscriptions at the end of each day): its legend gives the latest value, not a sum. */
  level?: boolean;
}

interface ChartProps {
  /** The chart's heading, also its accessible name. */
  title: string;
  /** Bucket starts, ms since the epoch. */
  times: number[];
  series: ChartSeries[];
  bucket: 'hour' | 'day';
}

const HEIGHT = 200;

/** The series colours, from the stylesheet's custom properties (light or dark). */
function colours(element: Element, count: number): string[] {
  const style = getComputedStyle(element);
  return Array.from({ length: count }, (_, i) => style.getPropertyValue(`--series-${i + 1}`).trim() || 'gray');
}

/**
 * The one wrapper around the chart library (uPlot, canvas): a time series with its
 * legend and, for screen readers and exact figures, the same numbers as a table. Redrawn
 * when its data, its width or the colour scheme changes.
 */
export function Chart({ title, times, series, bucket }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    let plot: uPlot | undefined;
    const label = bucket === 'hour' ? formatHour : formatDay;
    const draw = () => {
      plot?.destroy();
      const stroke = colours(element, series.length);
      const axis = getComputedStyle(element).getPropertyValue('--muted').trim() || 'gray';
      const grid = getComputedStyle(element).getPropertyValue('--line').trim() || 'silver';
      const axisStyle = { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
      plot = new uPlot(
        {
          width: Math.max(element.clientWidth, 200),
          height: HEIGHT,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true } },
          series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: stroke[i], width: 2, points: { show: false } }))],
          axes: [
            { ...axisStyle, values: (_u: uPlot, splits: number[]) => splits.map((s) => label(s * 1000)) },
            { ...axisStyle, size: 56, values: (_u: uPlot, splits: number[]) => splits.map((s) => formatNumber(s)) },
          ],
        },
        [times.map((t) => t / 1000), ...series.map((s) => s.values)],
        element,
      );
    };
    draw();
    const resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(element.clientWidth, 200), height: HEIGHT }));
    resize.observe(element);
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', draw);
    return () => {
      resize.disconnect();
      scheme.removeEventListener('change', draw);
      plot?.destroy();
    };
  }, [times, series, bucket]);

  const total = (s: ChartSeries) => (s.level ? (s.values.at(-1) ?? 0) : s.values.reduce((a, b) => a + b, 0));
  const summary = (s: ChartSeries) => `${s.label}: ${formatNumber(total(s))}${s.level ? ' now' : ' in all'}`;
  const label = bucket === 'hour' ? formatHour : formatDay;
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div class="chart-canvas" ref={box} role="img" aria-label={`${title}: ${series.map(summary).join(', ')}`} />
      <ul class="legend">
        {series.map((s, i) => (
          <li key={s.label}>
            <span class={`swatch swatch-${i + 1}`} aria-hidden="true" />
            {summary(s)}
          </li>
        ))}
      </ul>
      <details>
        <summary>The figures</summary>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{bucket === 'hour' ? 'Hour' : 'Day'}</th>
                {series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {times.map((t, row) => (
                <tr key={t}>
                  <th scope="row">{label(t)}</th>
                  {series.map((s) => (
                    <td key={s.label}>{formatNumber(s.values[row] ?? 0)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
