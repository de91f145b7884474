import type Router from '@koa/router';
import type { Context } from 'koa';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouteDeps } from '../deps.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.ico': 'image/x-icon',
};

/** Names a demo file may have: one path segment, no dot files, a known extension. */
const DEMO_NAME = /^[a-z0-9][a-z0-9_-]{0,63}\.(html|js|css|png|svg|json)$/;

/**
 * The served files: public/ at the repository root, which the build copies to dist/public, so
 * it sits three folders above this file both under tsx and once built.
 */
const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

/** uPlot's browser build and stylesheet, served by holdline itself for the dashboard (no CDN). */
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

/** Sends one file with its type, validators and cache policy; 404 when it is not there. */
async function sendFile(ctx: Context, base: string, name: string, cacheControl: string, crossOrigin: boolean): Promise<void> {
  const path = resolve(base, name);
  // The names are pattern-checked already; this is the second lock on the door.
  if (!path.startsWith(base + sep)) return;
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return;
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  ctx.set('ETag', etag);
  ctx.set('Last-Modified', info.mtime.toUTCString());
  ctx.set('Cache-Control', cacheControl);
  if (crossOrigin) ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
  ctx.type = CONTENT_TYPES[extname(name)] ?? 'application/octet-stream';
  if (ctx.get('If-None-Match') === etag) {
    ctx.status = 304;
    return;
  }
  ctx.status = 200;
  ctx.body = await readFile(path);
}

/**
 * GET /holdline.js, /widget.js (embeddable from any origin: script loads need no CORS) and the
 * demo pages under /demo/ (on a demo server only), from public/ and public/demo/.
 */
export function staticRoutes(router: Router, { demo }: RouteDeps): void {
  const clientDir = resolve(PUBLIC_DIR);
  const demoDir = join(clientDir, 'demo');
  // Embedders load the scripts by a stable URL: a short max-age lets fixes reach them within minutes.
  const scriptCache = 'public, max-age=300';
  const pageCache = 'no-cache';

  router.get('/holdline.js', (ctx) => sendFile(ctx, clientDir, 'holdline.js', scriptCache, true));
  router.get('/holdline.d.ts', (ctx) => sendFile(ctx, clientDir, 'holdline.d.ts', scriptCache, true));
  router.get('/widget.js', (ctx) => sendFile(ctx, clientDir, 'widget.js', scriptCache, true));
  router.get('/favicon.ico', (ctx) => sendFile(ctx, clientDir, 'favicon.ico', 'public, max-age=86400', false));
  router.get('/favicon.svg', (ctx) => sendFile(ctx, clientDir, 'favicon.svg', 'public, max-age=86400', false));
  // The dashboard's page and scripts are public; the data it reads needs an admin token.
  const adminDir = join(clientDir, 'admin');
  router.get('/admin', async (ctx) => {
    if (ctx.path === '/admin/') return sendFile(ctx, adminDir, 'index.html', pageCache, false);
    ctx.status = 301;
    ctx.redirect('/admin/');
  });
  router.get('/admin/uplot.js', (ctx) => sendFile(ctx, UPLOT_DIR, 'uPlot.iife.min.js', scriptCache, false));
  router.get('/admin/uplot.css', (ctx) => sendFile(ctx, UPLOT_DIR, 'uPlot.min.css', scriptCache, false));
  router.get('/admin/:name', async (ctx) => {
    const name = (ctx.params as Record<string, string>)['name'] ?? '';
    if (!DEMO_NAME.test(name)) return;
    await sendFile(ctx, adminDir, name, name.endsWith('.html') ? pageCache : scriptCache, false);
  });
  // The demo pages run published text on the API's origin: only a demo server (`serve --demo`)
  // serves them; a production server answers 404 as for any unknown path.
  if (!demo) return;
  router.get('/', (ctx) => ctx.redirect('/demo/'));
  // The router ignores a trailing slash; relative links in the pages need it.
  router.get('/demo', async (ctx) => {
    if (ctx.path === '/demo/') return sendFile(ctx, demoDir, 'index.html', pageCache, false);
    ctx.status = 301;
    ctx.redirect('/demo/');
  });
  router.get('/demo/:name', async (ctx) => {
    const name = (ctx.params as Record<string, string>)['name'] ?? '';
    if (!DEMO_NAME.test(name)) return;
    await sendFile(ctx, demoDir, name, name.endsWith('.html') ? pageCache : scriptCache, false);
  });
}
