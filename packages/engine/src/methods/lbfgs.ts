// Limited-memory BFGS with a backtracking (Armijo) line search, for the smooth convex objectives of
// feature_extraction's linear classifiers: converges in tens to hundreds of iterations where plain gradient
// descent needs thousands. The objective is seen along rays: for a linear model the scores along w + t·d are
// S + t·X·d, so every trial step of the line search is cheap and only the accepted one pays for a gradient.

/** The objective along the ray w + t·d. */
export interface Ray {
  /** f(w + t·d) */
  value(t: number): number;
  /** ∇f(w + t·d); called once per iteration, at the accepted step, which becomes the next ray's origin */
  gradient(t: number): Promise<Float64Array>;
}

export interface RayObjective {
  /** f and ∇f at the starting point */
  start(w: Float64Array): Promise<{ f: number; g: Float64Array }>;
  /** the ray from the current point (the start, then each accepted step) along d */
  ray(w: Float64Array, d: Float64Array): Promise<Ray>;
}

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
const maxAbs = (a: Float64Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

export async function minimizeLbfgs(objective: RayObjective, w0: Float64Array, o: LbfgsOptions): Promise<LbfgsResult> {
  const m = o.memory ?? 10;
  const n = w0.length;
  let w = Float64Array.from(w0);
  let { f, g } = await objective.start(w);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  for (let it = 1; it <= o.maxIterations; it++) {
    if (maxAbs(g) < o.gradientTolerance) return { w, f, iterations: it - 1, converged: true };
    // two-loop recursion: d = -H·g
    const q = Float64Array.from(g);
    const alpha = new Float64Array(S.length);
    for (let i = S.length - 1; i >= 0; i--) {
      const yi = Y[i];
      const a = (alpha[i] = rho[i] * dot(S[i], q));
      for (let j = 0; j < n; j++) q[j] -= a * yi[j];
    }
    const gamma = S.length ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let j = 0; j < n; j++) q[j] *= gamma;
    for (let i = 0; i < S.length; i++) {
      const si = S[i];
      const c = alpha[i] - rho[i] * dot(Y[i], q);
      for (let j = 0; j < n; j++) q[j] += c * si[j];
    }
    const d = q;
    for (let j = 0; j < n; j++) d[j] = -d[j];
    let slope = dot(g, d);
    if (slope >= 0) {
      // not a descent direction (curvature noise): restart from steepest descent
      S.length = Y.length = rho.length = 0;
      const norm = Math.max(1, Math.sqrt(dot(g, g)));
      for (let j = 0; j < n; j++) d[j] = -g[j] / norm;
      slope = dot(g, d);
    }
    const ray = await objective.ray(w, d);
    let step = 1;
    let fNext = NaN;
    for (let tries = 0; tries < 30; tries++, step /= 2) {
      fNext = ray.value(step);
      if (fNext <= f + 1e-4 * step * slope) break;
    }
    // no decrease possible at this precision: as converged as the arithmetic allows
    if (!(fNext <= f + 1e-4 * step * slope)) return { w, f, iterations: it, converged: true };
    const gNext = await ray.gradient(step);
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      s[j] = step * d[j];
      y[j] = gNext[j] - g[j];
      w[j] += s[j];
    }
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
    f = fNext;
    g = gNext;
    await o.onIteration?.(it, f);
  }
  return { w, f, iterations: o.maxIterations, converged: maxAbs(g) < o.gradientTolerance };
}
