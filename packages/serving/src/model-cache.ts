// Loaded checkpoints kept in memory so a warm prediction never touches storage. Least recently used
// first out, bounded by count and by bytes. Concurrent requests for a model that is still loading
// share the one load promise; a failed load is not cached, so the next request tries again.
import type { CheckpointFiles } from './checkpoint-files.ts';

export interface CachedModel {
  /** unique per load: the inference pool keys the model it holds in its threads by this */
  key: string;
  jobId: string;
  checkpoint: CheckpointFiles;
}

export interface ModelCacheOptions {
  load: (jobId: string) => Promise<CheckpointFiles>;
  maxModels: number;
  maxBytes: number;
  /** called when a model leaves the cache, so the pool can free its copies */
  onEvict?: (model: CachedModel) => void;
}

export class ModelCache {
  private readonly entries = new Map<string, Promise<CachedModel>>(); // Map order = recency (oldest first)
  private readonly ready = new Map<string, CachedModel>();
  private readonly loadCounts = new Map<string, number>();
  private seq = 0;

  constructor(private readonly opts: ModelCacheOptions) {}

  get(jobId: string): Promise<CachedModel> {
    const hit = this.entries.get(jobId);
    if (hit) {
      this.entries.delete(jobId);
      this.entries.set(jobId, hit);
      return hit;
    }
    this.loadCounts.set(jobId, (this.loadCounts.get(jobId) ?? 0) + 1);
    const loading = this.opts.load(jobId).then(
      (checkpoint) => {
        const model: CachedModel = { key: `${jobId}#${++this.seq}`, jobId, checkpoint };
        if (this.entries.get(jobId) === loading) {
          this.ready.set(jobId, model);
          this.evictOverBudget(jobId);
        }
        return model;
      },
      (err: unknown) => {
        if (this.entries.get(jobId) === loading) this.entries.delete(jobId);
        throw err;
      },
    );
    this.entries.set(jobId, loading);
    return loading;
  }

  /** How many times a job's checkpoint was read from storage (tests check warm calls do not reload). */
  loadCount(jobId: string): number {
    return this.loadCounts.get(jobId) ?? 0;
  }

  get size(): number {
    return this.ready.size;
  }

  get bytes(): number {
    let total = 0;
    for (const m of this.ready.values()) total += m.checkpoint.byteLength;
    return total;
  }

  delete(jobId: string): void {
    const model = this.ready.get(jobId);
    this.entries.delete(jobId);
    this.ready.delete(jobId);
    if (model) this.opts.onEvict?.(model);
  }

  clear(): void {
    for (const jobId of [...this.entries.keys()]) this.delete(jobId);
  }

  // Evict least recently used loaded models until within budget; the model just loaded stays even
  // if it alone is over the byte budget (refusing it would make that job unservable).
  private evictOverBudget(keep: string): void {
    for (const jobId of [...this.entries.keys()]) {
      if (this.ready.size <= this.opts.maxModels && this.bytes <= this.opts.maxBytes) return;
      if (jobId !== keep && this.ready.has(jobId)) this.delete(jobId);
    }
  }
}
