// Every call the console makes to the API goes through request() (or upload(), its XHR twin for progress
// events): both send the stored key as a bearer token and turn error bodies into ApiError, and a 401 asks
// the user for a key.
const keyName = 'graft.apiKey';

export const apiKey = {
  get: () => localStorage.getItem(keyName) ?? '',
  set(key) {
    if (key) localStorage.setItem(keyName, key);
    else localStorage.removeItem(keyName);
  },
};

const unauthorizedListeners = new Set();
/** Called with the ApiError of every 401; returns the unsubscribe function. */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export class ApiError extends Error {
  constructor(status, body) {
    const err = body?.error ?? {};
    super(err.message ?? `The service answered ${status}`);
    this.status = status;
    this.code = err.code ?? 'http_error';
    this.details = err.details;
    /** the request field the service names (validation errors), e.g. "hyperparameters.epochs" */
    this.field = typeof err.details?.field === 'string' ? err.details.field : null;
  }
}

function authHeaders() {
  const key = apiKey.get();
  return key ? { authorization: `Bearer ${key}` } : {};
}

function failed(status, body) {
  const error = new ApiError(status, body);
  if (status === 401) for (const l of unauthorizedListeners) l(error);
  return error;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * fetch against the API. `json` is sent as a JSON body, `form` as multipart. Resolves to the parsed JSON
 * (or the Response itself with raw: true, for streams and files); rejects with ApiError on a non-2xx answer.
 */
export async function request(path, { method = 'GET', json, form, raw = false, signal } = {}) {
  const headers = { accept: 'application/json', ...authHeaders() };
  let body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) body = form;
  let res;
  try {
    res = await fetch(path, { method, headers, body, signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, { error: { code: 'network_error', message: 'The service cannot be reached; is it running?' } });
  }
  if (!res.ok) throw failed(res.status, parseJson(await res.text()));
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}

/** POST of a FormData with upload progress (fetch has none): onProgress(fraction 0..1). */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      const body = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(failed(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, { error: { code: 'network_error', message: 'The upload was interrupted; is the service running?' } }));
    xhr.send(form);
  });
}

/**
 * Follows a server-sent event stream through request() (EventSource cannot send the key), calling
 * onEvent(name, data) per event. Resolves when the server ends the stream or `signal` aborts; retries while
 * the service cannot be reached; rejects with the ApiError of an HTTP error (404, 401, …).
 */
export async function followEvents(path, onEvent, signal) {
  while (!signal.aborted) {
    try {
      const res = await request(path, { raw: true, signal });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return; // the server ends the stream when the job has ended
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length) onEvent(event, parseJson(data.join('\n')));
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status > 0) throw err;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** Downloads a file from the API (with the key) and hands it to the browser under the server's file name. */
export async function download(path, fallbackName) {
  const res = await request(path, { raw: true });
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
