// A job kept up to date from its event stream (GET /jobs/:id/events) while it is queued or running.
import { useEffect, useState } from './lib.js';
import { followEvents } from './api.js';

export const isActive = (job) => job && (job.status === 'queued' || job.status === 'running');

/** The latest JobView of `initial`'s job; onEpoch(metrics) for each finished epoch the stream reports. */
export function useLiveJob(initial, onEpoch) {
  const [job, setJob] = useState(initial);
  useEffect(() => setJob(initial), [initial]);
  const id = initial?.id;
  const active = isActive(initial);
  useEffect(() => {
    if (!id || !active) return;
    const stop = new AbortController();
    followEvents(`/jobs/${id}/events`, (event, data) => {
      if (event === 'job') setJob(data);
      else if (event === 'epoch') onEpoch?.(data);
    }, stop.signal);
    return () => stop.abort();
  }, [id, active]);
  return job;
}
