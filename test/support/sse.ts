// Follows a server-sent event stream (GET /jobs/:id/events) the way a client does, with the CLI's parser.
import { readEvents } from '../../apps/cli/src/sse.ts';

export interface StreamEvent {
  event: string;
  data: Record<string, unknown>;
}

export interface EventFollower {
  /** every event so far, in order */
  events: StreamEvent[];
  /** resolves at the first event */
  firstEvent: Promise<void>;
  /** resolves when the server ends the stream */
  done: Promise<{ status: number; contentType: string | null; events: StreamEvent[] }>;
}

/** `headers` carry the API key (TestApi.headers). */
export function followEvents(
  url: string,
  headers: Record<string, string>,
  onEvent: (e: StreamEvent) => void = () => undefined,
  timeoutMs = 180_000,
): EventFollower {
  const events: StreamEvent[] = [];
  let first!: () => void;
  const firstEvent = new Promise<void>((resolve) => (first = resolve));
  const done = (async () => {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    for await (const m of readEvents(res)) {
      const e = { event: m.event, data: JSON.parse(m.data) as Record<string, unknown> };
      events.push(e);
      first();
      onEvent(e);
    }
    return { status: res.status, contentType: res.headers.get('content-type'), events };
  })();
  return { events, firstEvent, done };
}
