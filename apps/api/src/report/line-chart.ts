// Per-epoch curves as an inline SVG line chart (no scripts, no CDN): one polyline per series,
// axis ticks, a legend. Missing values (null) break the line instead of being drawn as zero.
import { escapeXml, formatNumber } from './markup.ts';

export interface Series {
  name: string;
  /** y per x; null where the series has no value */
  points: { x: number; y: number | null }[];
  dashed?: boolean;
}

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const W = 520;
const H = 280;
const M = { left: 56, right: 16, top: 28, bottom: 40 };

export function lineChartSvg(opts: { title: string; xLabel: string; yLabel: string; series: Series[] }): string {
  const series = opts.series.filter((s) => s.points.some((p) => p.y !== null && Number.isFinite(p.y)));
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.flatMap((p) => (p.y !== null && Number.isFinite(p.y) ? [p.y] : [])));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><title>${escapeXml(opts.title)}</title>`;
  const title = `<text x="${W / 2}" y="18" text-anchor="middle" class="chart-title">${escapeXml(opts.title)}</text>`;
  if (ys.length === 0) return `${head}${title}<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data yet</text></svg>`;

  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  let [y0, y1] = [Math.min(0, ...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-9) y1 = y0 + 1;
  y1 += (y1 - y0) * 0.05;
  const px = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);

  const parts: string[] = [head, title];
  // axes and ticks
  parts.push(`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" class="axis"/>`);
  parts.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" class="axis"/>`);
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<line x1="${M.left}" y1="${py(y).toFixed(1)}" x2="${W - M.right}" y2="${py(y).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${M.left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end" class="tick">${formatNumber(y)}</text>`);
  }
  const step = Math.max(1, Math.ceil((x1 - x0) / 10));
  for (let x = Math.ceil(x0); x <= x1; x += step) {
    parts.push(`<text x="${px(x).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle" class="tick">${x}</text>`);
  }
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle" class="axis-label">${escapeXml(opts.xLabel)}</text>`);
  parts.push(`<text x="14" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(M.top + H - M.bottom) / 2})" class="axis-label">${escapeXml(opts.yLabel)}</text>`);

  series.forEach((s, i) => {
    const color = palette[i % palette.length];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    // consecutive non-null points form one polyline
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${run.join(' ')}" data-series="${escapeXml(s.name)}"/>`);
      run = [];
    };
    for (const p of s.points) {
      if (p.y === null || !Number.isFinite(p.y)) {
        flush();
        continue;
      }
      run.push(`${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
      parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2.5" fill="${color}"><title>${escapeXml(s.name)} epoch ${p.x}: ${formatNumber(p.y)}</title></circle>`);
    }
    flush();
    const ly = M.top + 4 + i * 15;
    parts.push(`<line x1="${W - M.right - 120}" y1="${ly}" x2="${W - M.right - 100}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${W - M.right - 96}" y="${ly + 4}" class="legend">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
