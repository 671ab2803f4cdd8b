// A job kept up to date from its event stream (GET /jobs/:id/events) while it is queued or running.
import { useEffect, useState } from './lib.js';
import { followEvents } from './api.js';

export const isActive = (job) => job && (job.status === 'queued' || job.status === 'running');

/**
 * The latest JobView of `initial`'s job; onEpoch(metrics) for each finished epoch the stream reports.
 * follow = false keeps to `initial` (a browser holds only ~6 connections per origin, so a list follows a few).
 */
export function useLiveJob(initial, onEpoch, follow = true) {
  const [job, setJob] = useState(initial);
  useEffect(() => setJob(initial), [initial]);
  const id = initial?.id;
  const active = isActive(initial) && follow;
  useEffect(() => {
    if (!id || !active) return;
    const stop = new AbortController();
    let last = initial;
    (async () => {
      // A stream that ends while the job is still active was cut (an API restart, a proxy): follow it again.
      while (!stop.signal.aborted && isActive(last)) {
        await followEvents(`/jobs/${id}/events`, (event, data) => {
          if (event === 'job') setJob((last = data));
          else if (event === 'epoch') onEpoch?.(data);
        }, stop.signal);
        if (isActive(last)) await new Promise((r) => setTimeout(r, 2000));
      }
    })().catch(() => undefined); // an HTTP error (the job is gone, the key was revoked) ends following; 401 asks for a key
    return () => stop.abort();
  }, [id, active]);
  return job;
}

/** Re-renders every second while `active`, so "running for …" keeps counting between events. */
export function useTicking(active) {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [active]);
}
