// The server-side fetcher refuses internal addresses whatever the notation, at connect time and on
// every redirect. Refusals of non-loopback addresses are proven WITHOUT connecting (the classifier, the
// URL check and the DNS lookup with a resolver of our own); end to end only loopback servers are used,
// and they count what reached them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkUrlHost, guardedLookup, parseAllowList, refusalOf, safeFetch, type Resolver } from '@graft/safe-fetch';
import { GraftError } from '@graft/spec';

const none = parseAllowList('');

test('the classifier refuses every internal or special range and admits public unicast', () => {
  const refused: Record<string, string> = {
    '127.0.0.1': 'loopback', '127.255.0.9': 'loopback', '10.1.2.3': 'private', '172.16.0.1': 'private', '192.168.1.1': 'private',
    '169.254.169.254': 'linkLocal', '100.64.0.1': 'carrierGradeNat', '224.0.0.1': 'multicast', '255.255.255.255': 'broadcast',
    '0.0.0.0': 'unspecified', '192.0.2.1': 'reserved', '240.0.0.1': 'reserved', '::1': 'loopback', '::': 'unspecified',
    'fe80::1': 'linkLocal', 'fc00::1': 'uniqueLocal', 'fd12:3456::1': 'uniqueLocal', '::ffff:127.0.0.1': 'ipv4Mapped',
    '::ffff:169.254.169.254': 'ipv4Mapped', '64:ff9b::a00:1': 'rfc6052', '2002:7f00:1::': '6to4', 'ff02::1': 'multicast',
    '2001:db8::1': 'reserved', '::7f00:1': 'reserved', '[::1]': 'loopback',
  };
  for (const [address, range] of Object.entries(refused)) assert.equal(refusalOf(address, none), range, address);
  for (const address of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450::1']) assert.equal(refusalOf(address, none), null, address);
  assert.equal(refusalOf('not-an-ip', none), 'not an IP address');
});

test('FETCH_ALLOW admits CIDRs, single addresses and host names, and refuses nonsense', () => {
  const policy = parseAllowList('10.20.0.0/16, fd00::/8 127.0.0.1 models.internal');
  assert.equal(refusalOf('10.20.3.4', policy), null);
  assert.equal(refusalOf('10.21.0.1', policy), 'private');
  assert.equal(refusalOf('fd00::5', policy), null);
  assert.equal(refusalOf('127.0.0.1', policy), null);
  assert.equal(refusalOf('127.0.0.2', policy), 'loopback');
  assert.equal(refusalOf('::ffff:127.0.0.1', policy), 'ipv4Mapped', 'an IPv4 entry does not admit its IPv4-mapped form');
  assert.ok(policy.hosts.has('models.internal'));
  assert.throws(() => parseAllowList('10.0.0.0/99'), /FETCH_ALLOW: '10.0.0.0\/99' is not a CIDR/);
  assert.throws(() => parseAllowList('bad!host'), /neither a CIDR/);
});

test('IP-literal and localhost hosts are refused before connecting, in every notation', () => {
  for (const url of [
    'http://127.0.0.1:8080/d.zip', 'http://2130706433/d.zip', 'http://0x7f000001/d.zip', 'http://127.1/d.zip', 'http://0177.0.0.1/d.zip',
    'http://[::ffff:127.0.0.1]/d.zip', 'http://[::1]/d.zip', 'http://localhost:3000/d.zip', 'http://LOCALHOST./d.zip', 'http://api.localhost/d.zip',
    'http://169.254.169.254/latest/meta-data/', 'https://10.0.0.1/d.zip', 'http://[fd00::1]/d.zip', 'http://0/d.zip', 'http://user:pw@192.168.0.1/x?sig=1',
  ]) {
    assert.throws(
      () => checkUrlHost(new URL(url), none),
      (err: unknown) => err instanceof GraftError && err.code === 'url_not_allowed' && /FETCH_ALLOW/.test(err.message) && !/pw|sig=/.test(err.message),
      url,
    );
  }
  checkUrlHost(new URL('https://example.com/d.zip'), none); // names are checked when they resolve
  checkUrlHost(new URL('http://127.0.0.1:8080/d.zip'), parseAllowList('127.0.0.0/8'));
  checkUrlHost(new URL('http://localhost/d.zip'), parseAllowList('localhost'));
});

test('the connect-time lookup refuses a name resolving to any internal address (our resolver: no DNS, no connection)', async () => {
  const names: Record<string, { address: string; family: number }[]> = {
    'metadata.test': [{ address: '169.254.169.254', family: 4 }],
    'mixed.test': [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }],
    'ula.test': [{ address: 'fd00::7', family: 6 }],
    'public.test': [{ address: '93.184.216.34', family: 4 }],
  };
  const resolver: Resolver = async (host) => names[host] ?? [];
  const lookup = (policy: ReturnType<typeof parseAllowList>, host: string, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
      guardedLookup(policy, resolver)(host, { all }, (err, address) => resolve({ err, address })),
    );
  for (const host of ['metadata.test', 'mixed.test', 'ula.test']) {
    for (const all of [false, true]) {
      const { err } = await lookup(none, host, all);
      assert.equal(err?.code, 'EADDRNOTALLOWED', host);
    }
  }
  assert.equal((await lookup(none, 'public.test', false)).address, '93.184.216.34');
  assert.deepEqual((await lookup(none, 'public.test', true)).address, names['public.test']);
  assert.equal((await lookup(parseAllowList('10.0.0.0/8'), 'mixed.test', false)).err, null);
  assert.equal((await lookup(parseAllowList('metadata.test'), 'metadata.test', false)).err, null);
});

async function countingServer(host: string, handler: http.RequestListener = (_req, res) => res.end('hello')) {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { port, hits: () => hits, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const refusedWith = (pattern: RegExp) => (err: unknown) => err instanceof GraftError && err.code === 'url_not_allowed' && pattern.test(err.message);

test('end to end: a loopback server is not reached without FETCH_ALLOW, by address or by a name resolving to it (DNS rebinding)', async () => {
  const target = await countingServer('127.0.0.1');
  try {
    await assert.rejects(safeFetch(`http://127.0.0.1:${target.port}/x`, { policy: none }), refusedWith(/127\.0\.0\.1 is not a public address \(loopback\)/));
    await assert.rejects(safeFetch(`http://2130706433:${target.port}/x`, { policy: none }), refusedWith(/loopback/));
    await assert.rejects(safeFetch(`http://localhost:${target.port}/x`, { policy: none }), refusedWith(/localhost/));
    // a public-looking name whose DNS answer is loopback
    const rebinding: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    await assert.rejects(
      safeFetch(`http://files.example.com:${target.port}/x`, { policy: none, resolver: rebinding }),
      refusedWith(/files\.example\.com resolves to 127\.0\.0\.1, not a public address \(loopback\)/),
    );
    assert.equal(target.hits(), 0, 'nothing reached the server');
    const ok = await safeFetch(`http://127.0.0.1:${target.port}/x`, { policy: parseAllowList('127.0.0.1') });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'hello');
    assert.equal(target.hits(), 1);
  } finally {
    await target.close();
  }
});

test('every redirect hop is checked, and redirects are bounded', async () => {
  const inner = await countingServer('127.0.0.2');
  const loop = await countingServer('127.0.0.1', (req, res) => res.writeHead(302, { location: req.url === '/to-inner' ? `http://127.0.0.2:${inner.port}/secret` : '/again' }).end());
  const policy = parseAllowList('127.0.0.1/32');
  try {
    await assert.rejects(safeFetch(`http://127.0.0.1:${loop.port}/to-inner`, { policy }), refusedWith(/127\.0\.0\.2 is not a public address \(loopback\)/));
    assert.equal(inner.hits(), 0, 'the redirect target was never reached');
    await assert.rejects(safeFetch(`http://127.0.0.1:${loop.port}/start`, { policy }), /redirected more than 5 times/);
    assert.equal(loop.hits(), 1 + 6);
  } finally {
    await inner.close();
    await loop.close();
  }
});
