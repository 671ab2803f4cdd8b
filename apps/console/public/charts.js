// Per-epoch curves drawn by uPlot, sized to their container (and redrawn when it resizes).
import { html, useEffect, useRef } from './lib.js';
import uPlot from './vendor/uplot.mjs';

// Colour-blind-safe (Okabe–Ito) and dark enough on white; validation curves are also dashed.
const palette = ['#0063b1', '#b34700', '#007a5e', '#8c2d8c', '#6b6b00'];

/**
 * series: [{ label, values: (number|null)[] }] over epochs 1..n; yRange: [min, max] fixes the y axis (accuracy: a
 * little over 0..1, so points at 1 are not clipped); note replaces the caption's last-epoch values.
 */
export function EpochChart({ title, epochs, series, yRange, note }) {
  const box = useRef(null);
  const plot = useRef(null);
  const shown = series.filter((s) => s.values.some((v) => v !== null && v !== undefined));
  const key = shown.map((s) => s.label).join('|');
  // a series can grow while the epochs do not (a sweep's trials train side by side): redraw when any point arrives
  const points = shown.reduce((n, s) => n + s.values.filter((v) => v !== null && v !== undefined).length, 0);

  useEffect(() => {
    const el = box.current;
    const opts = {
      width: el.clientWidth || 300,
      height: 220,
      scales: { x: { time: false }, ...(yRange ? { y: { range: yRange } } : {}) },
      // a live legend shows dashes until hovered; the caption gives the last epoch's values instead
      legend: { live: false },
      axes: [{ label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100] }, {}],
      series: [{ label: 'epoch' }, ...shown.map((s, i) => ({
        label: s.label,
        stroke: palette[i % palette.length],
        width: 2,
        dash: /^val/i.test(s.label) ? [6, 4] : undefined,
        points: { show: true, size: 6 },
      }))],
    };
    plot.current = new uPlot(opts, [epochs, ...shown.map((s) => s.values)], el);
    const resize = new ResizeObserver(() => plot.current.setSize({ width: el.clientWidth, height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current.destroy();
    };
  }, [key]);

  useEffect(() => plot.current?.setData([epochs, ...shown.map((s) => s.values)]), [epochs.length, key, points]);

  const last = note ?? `epoch ${epochs.at(-1)}: ${shown.map((s) => `${s.label} ${s.values.at(-1)?.toFixed?.(3) ?? '–'}`).join(', ')}`;
  return html`
    <figure class="chart">
      <figcaption>${title} <span class="muted small">· ${last}</span></figcaption>
      <div ref=${box} role="img" aria-label=${`${title} by epoch`}></div>
    </figure>`;
}
