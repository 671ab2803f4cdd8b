// The finished job's evaluation, as the report page shows it: headline scores (top-1 is the accuracy itself), the confusion matrix as a
// heat map (numbers always printed, colour only reinforces them) and the per-class table.
import { html } from './lib.js';
import { fixed, percent } from './format.js';

function ConfusionMatrix({ labels, matrix }) {
  const max = Math.max(1, ...matrix.flat());
  return html`
    <div class="scroll-x">
      <table class="confusion" data-testid="confusion-matrix">
        <caption>Confusion matrix: rows are the true class, columns the predicted one</caption>
        <thead><tr><th scope="col"><span class="sr-only">true \ predicted</span></th>${labels.map((l) => html`<th scope="col">${l}</th>`)}</tr></thead>
        <tbody>
          ${matrix.map((row, i) => html`
            <tr>
              <th scope="row">${labels[i]}</th>
              ${row.map((n, j) => {
                const t = n / max;
                // light to dark blue; white text once the cell is dark enough for it
                const style = `background: hsl(212 80% ${Math.round(97 - t * 60)}%); color: ${t > 0.55 ? '#fff' : '#111'}`;
                return html`<td class=${`num${i === j ? ' diagonal' : ''}`} style=${style}>${n}</td>`;
              })}
            </tr>`)}
        </tbody>
      </table>
    </div>`;
}

export function EvaluationView({ evaluation }) {
  const { split, accuracy, macroF1, topK, perClass, confusionMatrix, servedFit } = evaluation;
  const heldOut = confusionMatrix.matrix.flat().reduce((a, b) => a + b, 0);
  return html`
    <section aria-labelledby="eval-title">
      <h2 id="eval-title">Evaluation <span class="muted small">on the ${split} split</span></h2>
      ${servedFit?.refit && html`<p class="muted small" data-testid="served-refit">The served model was then refitted on all ${servedFit.images} labelled images; these scores are of the fit without the ${heldOut} held-out images they were measured on.</p>`}
      <dl class="scores">
        <div><dt>Accuracy</dt><dd data-testid="eval-accuracy">${percent(accuracy, 1)}</dd></div>
        <div><dt>Macro F1</dt><dd>${fixed(macroF1)}</dd></div>
        ${Object.entries(topK ?? {}).filter(([k]) => k !== '1').map(([k, v]) => html`<div><dt>Top-${k} accuracy</dt><dd>${percent(v, 1)}</dd></div>`)}
      </dl>
      <div class="two-col">
        <${ConfusionMatrix} ...${confusionMatrix} />
        <div class="scroll-x">
          <table class="per-class">
            <caption>Per class</caption>
            <thead><tr><th scope="col">Class</th><th scope="col" class="num">Precision</th><th scope="col" class="num">Recall</th><th scope="col" class="num">F1</th><th scope="col" class="num">Support</th></tr></thead>
            <tbody>${perClass.map((c) => html`<tr><th scope="row">${c.label}</th><td class="num">${fixed(c.precision)}</td><td class="num">${fixed(c.recall)}</td><td class="num">${fixed(c.f1)}</td><td class="num">${c.support}</td></tr>`)}</tbody>
          </table>
        </div>
      </div>
    </section>`;
}
