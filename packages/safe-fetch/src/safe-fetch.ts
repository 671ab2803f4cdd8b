// The one fetcher for every URL the server opens on a user's behalf (dataset archives, backbone
// model.json and shards, predict {url} images). The address policy is enforced where the connection
// is made: IP-literal hosts before connecting, names through the agent's DNS lookup (every address it
// returns must pass, so a name that resolves, or re-resolves, to an internal address fails: no DNS
// rebinding), and the socket's remote address once connected. Redirects are followed by hand, each hop
// checked the same way, at most maxRedirects. Returns a WHATWG Response like fetch().
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ErrorCode, GraftError } from '@graft/spec';
import { allowSetting, isLocalhostName, literalAddress, parseAllowList, rangeLabel, refusalOf, type AddressPolicy } from './address-policy.ts';

/** dns.lookup's shape (all: true), injectable so tests can resolve names without DNS. */
export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

export interface SafeFetchOptions {
  policy?: AddressPolicy;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  maxRedirects?: number;
  resolver?: Resolver;
}

let cached: { raw: string | undefined; policy: AddressPolicy } | undefined;
/** The policy of FETCH_ALLOW in this process's environment (parsed once per value). */
export function defaultPolicy(): AddressPolicy {
  const raw = process.env[allowSetting];
  if (!cached || cached.raw !== raw) cached = { raw, policy: parseAllowList(raw) };
  return cached.policy;
}

/** Shown in messages: no credentials, no query (pre-signed URLs carry secrets). */
export const shownUrl = (u: URL) => `${u.protocol}//${u.host}${u.pathname}`;

export function urlNotAllowed(u: URL, why: string): GraftError {
  return new GraftError(
    ErrorCode.urlNotAllowed,
    `${shownUrl(u)} is not allowed: ${why}. The server only fetches from public addresses; an operator can admit ` +
      `internal hosts or ranges with the ${allowSetting} setting (CIDRs or host names)`,
  );
}

/** Refuses an http(s) URL whose host is an IP literal (any notation) or localhost outside the policy; names are checked at connect. */
export function checkUrlHost(u: URL, policy: AddressPolicy = defaultPolicy()): void {
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw urlNotAllowed(u, `${u.protocol}// is not fetched over the network`);
  const host = u.hostname.toLowerCase();
  if (policy.hosts.has(host)) return;
  const literal = literalAddress(host) ?? (isLocalhostName(host) ? '127.0.0.1' : null);
  if (literal === null) return;
  const refusal = refusalOf(literal, policy);
  if (refusal) throw urlNotAllowed(u, `${host} is not a public address (${rangeLabel(refusal)})`);
}

/** A dns.lookup replacement for http(s) agents that refuses names resolving to a refused address. */
export function guardedLookup(policy: AddressPolicy, resolver: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    resolver(hostname).then(
      (addresses) => {
        if (addresses.length === 0) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
        if (!policy.hosts.has(hostname.toLowerCase())) {
          for (const a of addresses) {
            const refusal = refusalOf(a.address, policy);
            if (refusal) throw new RefusedAddress(hostname, a.address, refusal);
          }
        }
        if (all) (callback as (e: null, a: typeof addresses) => void)(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
    ).catch((err: NodeJS.ErrnoException) => callback(err, '', 0));
  };
}

class RefusedAddress extends Error {
  readonly code = 'EADDRNOTALLOWED';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`${host} resolves to ${address}, not a public address (${rangeLabel(range)})`);
  }
}

/** Checks the address a socket really connected to (the last word, whatever resolved it). */
function guardSocket(socket: Socket, host: string, policy: AddressPolicy, fail: (err: Error) => void): void {
  const check = () => {
    const remote = socket.remoteAddress;
    if (policy.hosts.has(host.toLowerCase()) || !remote) return;
    const refusal = refusalOf(remote, policy);
    if (refusal) {
      const err = new RefusedAddress(host, remote, refusal);
      socket.destroy(err);
      fail(err);
    }
  };
  if ((socket as Socket & { connecting?: boolean }).connecting) socket.once('connect', check);
  else check();
}

function requestOnce(u: URL, opts: SafeFetchOptions, policy: AddressPolicy): Promise<http.IncomingMessage> {
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, {
      method: 'GET',
      headers: { 'user-agent': 'graft', ...opts.headers },
      lookup: guardedLookup(policy, opts.resolver),
      signal: opts.signal,
      agent: false,
    });
    req.on('socket', (socket) => guardSocket(socket, u.hostname, policy, reject));
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

/**
 * GET `url` under the address policy. Refusals are GraftError url_not_allowed naming the URL and the
 * setting; network failures are the usual errors (with `code`), for the caller to word.
 */
export async function safeFetch(url: string | URL, opts: SafeFetchOptions = {}): Promise<Response> {
  const policy = opts.policy ?? defaultPolicy();
  const maxRedirects = opts.maxRedirects ?? 5;
  let u = new URL(url);
  for (let hop = 0; ; hop++) {
    checkUrlHost(u, policy);
    let res: http.IncomingMessage;
    try {
      res = await requestOnce(u, opts, policy);
    } catch (err) {
      if (err instanceof RefusedAddress) throw urlNotAllowed(u, err.message);
      throw err;
    }
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location && status !== 304) {
      res.resume();
      if (hop >= maxRedirects) throw new GraftError(ErrorCode.downloadFailed, `${shownUrl(u)} redirected more than ${maxRedirects} times; give the final URL`);
      const next = new URL(location, u);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw urlNotAllowed(next, `a redirect to ${next.protocol}// is not followed`);
      // credentials given for one host are not sent to another
      if (next.host !== u.host && opts.headers?.authorization) {
        const { authorization: _dropped, ...rest } = opts.headers;
        opts = { ...opts, headers: rest };
      }
      u = next;
      continue;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined && k !== 'set-cookie') headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
    const response = new Response(body, { status, statusText: res.statusMessage, headers });
    Object.defineProperty(response, 'url', { value: u.href });
    return response;
  }
}
