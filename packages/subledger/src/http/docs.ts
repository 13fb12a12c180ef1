import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';

// The package's folder, found without importing it: its entry evaluates the whole Swagger UI bundle,
// about 11 MB of heap that every server would carry (and mark on every full collection) for a page
// whose files are only read from disk.
const SWAGGER_UI_FOLDER = path.dirname(
  createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'),
);

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Subledger API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#api', deepLinking: true });
  </script>
</body>
</html>`;

/**
 * `/docs`: the API reference rendered from `/openapi.json` by Swagger UI, served from the installed
 * package, so the page works with no network beyond this server.
 */
export function docsRoutes(): Hono {
  const routes = new Hono();
  const cache = new Map<string, Buffer>();
  routes.get('/', (c) => c.html(PAGE));
  routes.get('/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return c.notFound();
    let body = cache.get(file);
    if (!body) {
      body = await readFile(path.join(SWAGGER_UI_FOLDER, file));
      cache.set(file, body);
    }
    return c.body(new Uint8Array(body), 200, {
      'content-type': type,
      'cache-control': 'public, max-age=3600',
    });
  });
  return routes;
}
