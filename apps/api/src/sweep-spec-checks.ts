// What a submitted sweep must satisfy beyond its schema: a space the algorithm can search, early
// stopping it can apply, and every trial it will sample a job POST /jobs would accept (the job checks
// run on each sampled trial spec). Each failure names the field, the space's own where it came from.
import { ErrorCode, GraftError, type SweepSpec } from '@graft/spec';
import { isRange, sampleTrials, spaceEntries, trialJobSpec } from '@graft/sweeps';
import { checkJobSpec, type SpecCheckContext } from './job-spec-checks.ts';

function invalid(field: string, message: string): GraftError {
  return new GraftError(ErrorCode.validation, message, { field });
}

function checkSpace(spec: SweepSpec): void {
  const fixed: Record<string, unknown> = spec.hyperparameters ?? {};
  for (const [name, entry] of spaceEntries(spec)) {
    const field = `search.space.${name}`;
    const fixedField = name === 'backbone' ? (spec.backbone !== undefined ? 'backbone' : undefined) : fixed[name] !== undefined ? `hyperparameters.${name}` : undefined;
    if (fixedField) throw invalid(field, `${field} is also fixed as ${fixedField}; give it in one place`);
    if (!isRange(entry)) continue;
    if (spec.search.algorithm === 'grid') throw invalid(field, `${field} is a range; grid search takes lists of values ([v1, v2, …]): give a list or use algorithm random`);
    if (entry.min > entry.max) throw invalid(`${field}.min`, `${field}.min ${entry.min} is above ${field}.max ${entry.max}`);
    if (entry.scale === 'log' && entry.min <= 0) throw invalid(`${field}.min`, `${field}.min must be > 0 on a log scale`);
  }
}

function checkEarlyStopping(spec: SweepSpec): void {
  if (!spec.search.earlyStopping) return;
  const field = 'search.earlyStopping';
  if (spec.search.objective === 'macroF1') throw invalid(field, `${field} compares trials after each epoch: use objective valAccuracy or valLoss (macroF1 is measured once, at the end)`);
  if (spec.method === 'feature_extraction') throw invalid(field, `${field} stops trials between epochs; feature_extraction fits its classifier in one step`);
}

/** The job checks on each sampled trial; a refusal of a value the space gave names search.space.<name>. */
async function checkTrials(spec: SweepSpec, ctx: SpecCheckContext): Promise<void> {
  for (const plan of sampleTrials(spec)) {
    try {
      await checkJobSpec(trialJobSpec(spec, plan), ctx);
    } catch (err) {
      const field = err instanceof GraftError ? (err.details as { field?: string } | undefined)?.field : undefined;
      const name = field?.replace(/^hyperparameters\./, '').split('.')[0];
      if (!(err instanceof GraftError) || !name || !(name in plan.values)) throw err;
      throw new GraftError(err.code, `${err.message} (trial ${plan.index} draws ${name} ${JSON.stringify(plan.values[name])} from search.space.${name})`, {
        field: `search.space.${name}`,
      });
    }
  }
}

export async function checkSweepSpec(spec: SweepSpec, ctx: SpecCheckContext): Promise<void> {
  checkSpace(spec);
  checkEarlyStopping(spec);
  await checkTrials(spec, ctx);
}
