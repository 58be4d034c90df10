import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { errorBody } from '../../common/http-exception.filter';

/** Where `npm run build` puts the console (vite build of console/): beside dist/, not in it, so `nest build` does not wipe it. */
export const CONSOLE_DIR = resolve(__dirname, '../../../console/dist');

/**
 * Serves the console's static files at /console/ (its CSP is set by the request hooks, by path).
 * Assets carry a content hash, so they are cached for a year; index.html is revalidated, so a new
 * release is picked up on the next load.
 */
export async function registerConsole(fastify: FastifyInstance, dir = CONSOLE_DIR): Promise<boolean> {
  if (!existsSync(join(dir, 'index.html'))) {
    // A build without the console (nest build alone) must say so, not answer an empty page.
    fastify.get('/console', (req, reply) => {
      void reply.status(404).send(errorBody(404, 'The console is not built: run `npm run build` (it builds console/ with Vite).', req.id));
    });
    fastify.get('/console/*', (req, reply) => {
      void reply.status(404).send(errorBody(404, 'The console is not built: run `npm run build` (it builds console/ with Vite).', req.id));
    });
    return false;
  }
  // /console -> console/: the page's asset URLs are relative, so it needs the trailing slash. The
  // Location is relative too, so a sub-path the ingress strips (/sluice/console) is kept.
  fastify.get('/console', (req, reply) => {
    void reply.redirect('console/', 308);
  });
  await fastify.register(fastifyStatic, {
    root: dir,
    prefix: '/console/',
    index: ['index.html'],
    wildcard: true,
    decorateReply: false,
    setHeaders(res, path) {
      res.header('Cache-Control', /[/\\]assets[/\\]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return true;
}
