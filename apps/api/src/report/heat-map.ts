// The confusion matrix as an SVG heat map: rows are true classes, columns predicted ones; each cell
// is shaded by its share of the row (so recall reads along the diagonal) and shows its count.
import { escapeXml } from './markup.ts';

export function confusionHeatMapSvg(labels: string[], matrix: number[][]): string {
  const n = labels.length;
  const cell = n <= 10 ? 44 : Math.max(14, Math.floor(440 / n));
  const labelWidth = Math.min(160, 8 + 7 * Math.max(...labels.map((l) => l.length), 4));
  const top = labelWidth;
  const left = labelWidth;
  const W = Math.max(left + n * cell + labelWidth * 0.75, left + 260); // rotated column labels overhang to the right
  const H = top + n * cell + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" role="img" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><title>Confusion matrix</title>`,
  ];
  labels.forEach((label, j) => {
    const x = left + j * cell + cell / 2;
    parts.push(`<text x="${x}" y="${top - 6}" transform="rotate(-45 ${x} ${top - 6})" class="tick">${escapeXml(label)}</text>`);
  });
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const y = top + i * cell;
    parts.push(`<text x="${left - 6}" y="${y + cell / 2 + 4}" text-anchor="end" class="tick">${escapeXml(labels[i] ?? '')}</text>`);
    row.forEach((count, j) => {
      const share = total > 0 ? count / total : 0;
      // white -> deep blue by share of the row
      const shade = (c0: number, c1: number) => Math.round(c0 + (c1 - c0) * share);
      const fill = `rgb(${shade(255, 30)},${shade(255, 64)},${shade(255, 175)})`;
      const x = left + j * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#e5e7eb" data-row="${i}" data-col="${j}"><title>true ${escapeXml(labels[i] ?? '')}, predicted ${escapeXml(labels[j] ?? '')}: ${count}</title></rect>`,
      );
      if (cell >= 24) {
        parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" class="cell" fill="${share > 0.5 ? '#fff' : '#111'}">${count}</text>`);
      }
    });
  });
  parts.push(`<text x="${left + (n * cell) / 2}" y="${H - 8}" text-anchor="middle" class="axis-label">predicted class (rows: true class)</text>`);
  parts.push('</svg>');
  return parts.join('');
}
