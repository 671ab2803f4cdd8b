// The Graft HTTP API as the CLI uses it: JSON in, JSON out, errors turned into one message a person
// can act on (the API's { error: { code, message } } body).
import type { ErrorBody } from '@graft/spec';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class ApiClient {
  /** `apiKey` goes out as Authorization: Bearer on every request */
  constructor(
    readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  url(path: string): string {
    return new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`).href;
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      const headers = new Headers(init.headers);
      if (this.apiKey) headers.set('authorization', `Bearer ${this.apiKey}`);
      res = await fetch(this.url(path.replace(/^\//, '')), { ...init, headers });
    } catch (err) {
      throw new ApiError(0, 'unreachable', `Cannot reach the Graft API at ${this.baseUrl} (${String((err as Error).cause ?? err)}); set GRAFT_URL or --url`);
    }
    if (!res.ok) {
      const text = await res.text();
      let body: ErrorBody | null = null;
      try {
        body = JSON.parse(text) as ErrorBody;
      } catch {
        // not our error shape (a proxy's page): show the status
      }
      const hint = res.status === 401 ? ' (set GRAFT_API_KEY to a key from your operator)' : '';
      throw new ApiError(res.status, body?.error?.code ?? 'http_error', (body?.error?.message ?? `HTTP ${res.status} ${text.slice(0, 200)}`) + hint);
    }
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await this.request(path, init)).json()) as T;
  }

  postJson<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  postForm<T>(path: string, form: FormData): Promise<T> {
    return this.json<T>(path, { method: 'POST', body: form });
  }
}
