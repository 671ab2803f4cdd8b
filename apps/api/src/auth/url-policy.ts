// Which URLs of a job spec a caller may hand the server, checked at submission (400 url_not_allowed,
// naming the field): file:// is for operators (admin keys) only; s3:// only inside the configured
// store's bucket, and outside the keys the service itself writes (uploads, checkpoints of every tenant)
// unless the caller is an operator; http(s) hosts that are internal IP literals (any notation) or
// localhost, by @graft/safe-fetch's policy (a name is checked when the worker connects: a failed job).
import type { JobSpec } from '@graft/spec';
import { ErrorCode, GraftError } from '@graft/spec';
import { checkUrlHost } from '@graft/safe-fetch';
import type { Principal } from './principal.ts';

export interface UrlPolicyContext {
  principal: Principal;
  /** STORAGE_URL */
  storageUrl: string;
}

/** Every URL a spec makes the server open, with the field it came from. */
export function specUrls(spec: JobSpec): { field: string; url: string }[] {
  const out: { field: string; url: string }[] = [];
  for (const field of ['dataset', 'source', 'validation'] as const) {
    const ref = spec[field];
    if (ref && 'url' in ref) out.push({ field: `${field}.url`, url: ref.url });
  }
  if (typeof spec.backbone === 'object') out.push({ field: 'backbone.url', url: spec.backbone.url });
  return out;
}

const refuse = (field: string, message: string) => new GraftError(ErrorCode.urlNotAllowed, `${field}: ${message}`, { field });

function checkS3(u: URL, field: string, ctx: UrlPolicyContext): void {
  if (!ctx.storageUrl.startsWith('s3://')) throw refuse(field, 's3:// URLs are only accepted when the server stores on S3 (STORAGE_URL=s3://…); use an http(s) URL or upload the archive');
  const [bucket, ...prefix] = ctx.storageUrl.slice('s3://'.length).split('/');
  if (u.hostname !== bucket) throw refuse(field, `s3:// URLs must be inside the server's bucket s3://${bucket}/ (STORAGE_URL)`);
  if (ctx.principal.isAdmin) return;
  const keyPrefix = prefix.filter(Boolean).map((p) => `${p}/`).join('');
  const key = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (['datasets/', 'jobs/'].some((own) => key.startsWith(keyPrefix + own))) {
    throw refuse(field, `s3://${bucket}/${keyPrefix}datasets/ and …/jobs/ hold the service's own files; refer to an upload by dataset: { id }`);
  }
}

export function checkSpecUrls(spec: JobSpec, ctx: UrlPolicyContext): void {
  for (const { field, url } of specUrls(spec)) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      continue; // the fetcher explains a malformed URL in the job's error
    }
    if (u.protocol === 'file:' && !ctx.principal.isAdmin) {
      throw refuse(field, 'file:// URLs are for the operator (an admin key) only; upload the archive with POST /datasets or give an http(s) URL');
    }
    if (u.protocol === 's3:') checkS3(u, field, ctx);
    if (u.protocol === 'http:' || u.protocol === 'https:') {
      try {
        checkUrlHost(u);
      } catch (err) {
        if (err instanceof GraftError) throw refuse(field, err.message);
        throw err;
      }
    }
  }
}
