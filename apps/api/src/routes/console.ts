// The browser console at `/`: its own ES modules from apps/console/public and the two browser libraries it
// imports (htm's preact bundle, uPlot), served straight from their npm packages so there is no vendored copy to
// keep in step and no build step. Every route here is public (no API key): the page asks for the key itself.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { Type } from '@sinclair/typebox';
import { defaultImageSize, listBackbones, resolveHyperparameters } from '@graft/engine';
import type { Method } from '@graft/spec';
import type { RoutePlugin } from '../schemas.ts';

const consoleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../console');
const publicDir = path.join(consoleDir, 'public');
// Found from the console's own package, which declares them. htm's `exports` hide its package.json and have
// no CommonJS build of the preact bundle, so its folder is found from its main file (dist/htm.js).
const { resolve } = createRequire(path.join(consoleDir, 'package.json'));
const htmDir = path.dirname(path.dirname(resolve('htm')));
const uplotDir = path.dirname(resolve('uplot/package.json'));
const vendor = new Map([
  ['preact-htm.mjs', path.join(htmDir, 'preact/standalone.mjs')],
  ['uplot.mjs', path.join(uplotDir, 'dist/uPlot.esm.js')],
  ['uplot.css', path.join(uplotDir, 'dist/uPlot.min.css')],
]);

const methods: Method[] = ['fine_tune', 'feature_extraction', 'multi_task', 'domain_adaptation'];

/** What a job gets when it names no hyper-parameter, per backbone and method (the seed is drawn per job). */
function defaults() {
  return Object.fromEntries(
    listBackbones().map((b) => [
      b.id,
      Object.fromEntries(methods.map((m) => {
        const { seed: _seed, ...hp } = resolveHyperparameters(m, undefined, defaultImageSize(b, m));
        return [m, hp];
      })),
    ]),
  );
}

// The page loads nothing from elsewhere; the browser enforces that too.
const csp = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const consolePlugin: RoutePlugin = async (app) => {
  await app.register(fastifyStatic, { root: publicDir, serve: false, decorateReply: true });
  const route = { schema: { hide: true }, config: { public: true } };

  app.get('/', route, (_req, reply) => reply.header('content-security-policy', csp).sendFile('index.html'));
  app.get('/console/defaults.json', route, () => defaults());
  app.get('/console/vendor/:file', { ...route, schema: { hide: true, params: Type.Object({ file: Type.String() }) } }, (req, reply) => {
    const file = vendor.get(req.params.file);
    if (!file) return reply.callNotFound();
    return reply.sendFile(path.basename(file), path.dirname(file));
  });
  // `send` keeps the path inside publicDir (.. and dot files are refused).
  app.get('/console/*', route, (req, reply) => reply.sendFile((req.params as { '*': string })['*']));
};

export default consolePlugin;
