// Seeded sampling of a sweep's trials: the same spec (search.seed included) always gives the same
// trials in the same order, so the scheduler can create trial i at any time, in any process, from the
// stored spec alone. Names are taken in the schema's order, not the JSON's: Postgres jsonb reorders keys.
import { Hyperparameters, SearchSpace, type JobSpec, type SpaceName, type SpaceRange, type SweepSpec } from '@graft/spec';
import { seededRandom } from '@graft/engine/seeded-random';

export interface TrialPlan {
  /** 0-based position in the sampling order */
  index: number;
  /** the values drawn from search.space, by name */
  values: Record<string, unknown>;
}

const spaceNames = Object.keys(SearchSpace.properties) as SpaceName[];
const integerNames = new Set(Object.entries(Hyperparameters.properties).filter(([, s]) => s.type === 'integer').map(([k]) => k));

export const isRange = (entry: unknown): entry is SpaceRange => typeof entry === 'object' && entry !== null && !Array.isArray(entry);

/** The space's entries in schema order. */
export function spaceEntries(spec: SweepSpec): [SpaceName, unknown[] | SpaceRange][] {
  const space = spec.search.space as Record<string, unknown[] | SpaceRange | undefined>;
  return spaceNames.flatMap((name) => (space[name] === undefined ? [] : [[name, space[name]!] as [SpaceName, unknown[] | SpaceRange]]));
}

/** JSON with sorted keys: the same spec hashes the same however it was written or stored. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** search.seed, else a 31-bit FNV-1a hash of the canonical spec. */
export function sweepSeed(spec: SweepSpec): number {
  if (spec.search.seed !== undefined) return spec.search.seed;
  let h = 0x811c9dc5;
  for (const ch of canonical(spec)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}

function draw(name: string, range: SpaceRange, rand: () => number): number {
  const u = rand();
  const { min, max } = range;
  let v = range.scale === 'log' ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
  // six significant digits read well in a leaderboard and lose nothing a training run could tell apart
  v = range.integer || integerNames.has(name) ? Math.round(v) : Number(v.toPrecision(6));
  return Math.min(max, Math.max(min, v));
}

/** Grid: the lists' cartesian product in order (first name slowest), a seeded choice of maxTrials of its points if it has more. */
function gridTrials(spec: SweepSpec, rand: () => number): TrialPlan[] {
  const entries = spaceEntries(spec) as [SpaceName, unknown[]][];
  const total = entries.reduce((n, [, values]) => n * values.length, 1);
  const { maxTrials } = spec.search;
  let points: number[];
  if (total <= maxTrials) points = Array.from({ length: total }, (_, i) => i);
  else {
    const chosen = new Set<number>();
    while (chosen.size < maxTrials) chosen.add(Math.floor(rand() * total));
    points = [...chosen].sort((a, b) => a - b);
  }
  return points.map((point, index) => {
    const values: Record<string, unknown> = {};
    let rest = point;
    for (let k = entries.length - 1; k >= 0; k--) {
      const [name, list] = entries[k];
      values[name] = list[rest % list.length];
      rest = Math.floor(rest / list.length);
    }
    return { index, values: Object.fromEntries(entries.map(([name]) => [name, values[name]])) };
  });
}

function randomTrials(spec: SweepSpec, rand: () => number): TrialPlan[] {
  const entries = spaceEntries(spec);
  return Array.from({ length: spec.search.maxTrials }, (_, index) => ({
    index,
    values: Object.fromEntries(entries.map(([name, entry]) => [name, isRange(entry) ? draw(name, entry, rand) : entry[Math.floor(rand() * entry.length)]])),
  }));
}

/** Every trial the sweep will run, in order: maxTrials of them (fewer when a grid has fewer points). */
export function sampleTrials(spec: SweepSpec): TrialPlan[] {
  const rand = seededRandom(sweepSeed(spec));
  return spec.search.algorithm === 'grid' ? gridTrials(spec, rand) : randomTrials(spec, rand);
}

/**
 * The job a trial runs: the sweep's method, data, backbone and fixed hyperparameters with the trial's
 * values on top, and a fixed seed (the sweep's, unless the space or the fixed set give one) so that
 * every trial is repeatable and trials differ by their hyper-parameters only.
 */
export function trialJobSpec(spec: SweepSpec, plan: TrialPlan): JobSpec {
  const { backbone, ...values } = plan.values;
  const hyperparameters = { seed: sweepSeed(spec), ...spec.hyperparameters, ...values };
  const job: JobSpec = { method: spec.method, dataset: spec.dataset, hyperparameters };
  const chosenBackbone = (backbone ?? spec.backbone) as JobSpec['backbone'];
  if (chosenBackbone !== undefined) job.backbone = chosenBackbone;
  if (spec.source) job.source = spec.source;
  if (spec.validation) job.validation = spec.validation;
  return job;
}
