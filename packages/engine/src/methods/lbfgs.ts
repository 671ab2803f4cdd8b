// Limited-memory BFGS with a backtracking (Armijo) line search, for the smooth convex objectives of
// feature_extraction's linear classifiers: converges in tens to hundreds of iterations where plain gradient
// descent needs thousands.

export interface LbfgsOptions {
  maxIterations: number;
  /** stop when the largest gradient component falls below this (scikit-learn's `tol` convention) */
  gradientTolerance: number;
  /** history pairs kept */
  memory?: number;
  /** awaited once per iteration (progress, a chance for an abort to land); throw to stop */
  onIteration?(iteration: number, f: number): void | Promise<void>;
}

export interface LbfgsResult {
  w: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

export async function minimizeLbfgs(
  fg: (w: Float64Array) => { f: number; g: Float64Array },
  w0: Float64Array,
  o: LbfgsOptions,
): Promise<LbfgsResult> {
  const m = o.memory ?? 10;
  const n = w0.length;
  let w = Float64Array.from(w0);
  let { f, g } = fg(w);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  for (let it = 1; it <= o.maxIterations; it++) {
    if (maxAbs(g) < o.gradientTolerance) return { w, f, iterations: it - 1, converged: true };
    // two-loop recursion: d = -H·g
    const q = Float64Array.from(g);
    const alpha: number[] = [];
    for (let i = S.length - 1; i >= 0; i--) {
      alpha[i] = rho[i] * dot(S[i], q);
      for (let j = 0; j < n; j++) q[j] -= alpha[i] * Y[i][j];
    }
    const gamma = S.length ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let j = 0; j < n; j++) q[j] *= gamma;
    for (let i = 0; i < S.length; i++) {
      const beta = rho[i] * dot(Y[i], q);
      for (let j = 0; j < n; j++) q[j] += S[i][j] * (alpha[i] - beta);
    }
    const d = q.map((v) => -v);
    let slope = dot(g, d);
    if (slope >= 0) {
      // not a descent direction (curvature noise): restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let j = 0; j < n; j++) d[j] = -g[j] / Math.max(1, Math.sqrt(dot(g, g)));
      slope = dot(g, d);
    }
    let step = 1;
    let next: { f: number; g: Float64Array } | null = null;
    let wNext = w;
    for (let tries = 0; tries < 30; tries++) {
      wNext = w.map((v, j) => v + step * d[j]);
      const r = fg(wNext);
      if (r.f <= f + 1e-4 * step * slope) {
        next = r;
        break;
      }
      step /= 2;
    }
    // no decrease possible at float32 precision: as converged as the arithmetic allows
    if (!next) return { w, f, iterations: it, converged: true };
    const s = wNext.map((v, j) => v - w[j]);
    const y = next.g.map((v, j) => v - g[j]);
    const sy = dot(s, y);
    if (sy > 1e-10) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    w = wNext;
    f = next.f;
    g = next.g;
    await o.onIteration?.(it, f);
  }
  return { w, f, iterations: o.maxIterations, converged: maxAbs(g) < o.gradientTolerance };
}
