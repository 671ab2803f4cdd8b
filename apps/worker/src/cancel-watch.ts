// Turns "cancelRequested in Postgres" into an AbortSignal for the engine and the dataset download.
// Polled on a timer and, during training, from the engine's progress callback (which runs between
// batches), so a running job stops at its next batch.
import { GraftError, ErrorCode } from '@graft/spec';

export class CancelWatch {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private lastPoll = 0;

  constructor(
    private readonly isCancelRequested: () => Promise<boolean>,
    private readonly intervalMs = 1000,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get cancelled(): boolean {
    return this.controller.signal.aborted;
  }

  /** Checks now unless a check ran within the interval. */
  async pollIfDue(): Promise<void> {
    if (Date.now() - this.lastPoll >= this.intervalMs) await this.poll();
  }

  private async poll(): Promise<void> {
    if (this.cancelled) return;
    this.lastPoll = Date.now();
    // A failed check (database briefly away) is not a cancel; the next poll retries.
    const requested = await this.isCancelRequested().catch(() => false);
    if (requested && !this.cancelled) this.controller.abort(new GraftError(ErrorCode.cancelled, 'the job was cancelled'));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
