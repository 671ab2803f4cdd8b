// Where a job's time goes: the worker names each stage as it begins (a dataset's download and extraction, the
// engine's features/training/evaluating, saving); the clock closes the previous one and hands the list to
// `flush` (Postgres), so GET /jobs/:id/metrics shows the stages while the job still runs.
import type { StageTime } from '@graft/spec';

export class StageClock {
  readonly stages: StageTime[];
  private current: { stage: string; since: number } | null = null;

  constructor(
    earlier: StageTime[],
    private readonly flush: (stages: StageTime[]) => Promise<void>,
  ) {
    this.stages = [...earlier];
  }

  /** Ends the running stage (if another) and starts `stage`; the same name again keeps the clock running. */
  async begin(stage: string): Promise<void> {
    if (this.current?.stage === stage) return;
    const closed = this.close();
    this.current = { stage, since: performance.now() };
    if (closed) await this.flush(this.stages);
  }

  /** Ends the running stage and writes the list. */
  async end(): Promise<void> {
    this.close();
    await this.flush(this.stages);
  }

  private close(): boolean {
    if (!this.current) return false;
    this.stages.push({ stage: this.current.stage, seconds: Math.round(performance.now() - this.current.since) / 1000 });
    this.current = null;
    return true;
  }
}
