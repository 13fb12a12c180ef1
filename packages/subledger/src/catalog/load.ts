import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCatalog } from './define.ts';
import { demoCatalog } from './demo.ts';
import type { Catalog } from './types.ts';

/**
 * The app's catalog: the default export of the module at `modulePath` (a .ts or .js file, relative to
 * the working directory), either a `defineCatalog` result or a plain definition; absent: the demo.
 */
export async function loadCatalog(modulePath: string | undefined): Promise<Catalog> {
  if (!modulePath) return demoCatalog;
  const url = pathToFileURL(resolve(modulePath)).href;
  let loaded: { default?: unknown };
  try {
    loaded = await import(url);
  } catch (error) {
    throw new Error(`cannot load the catalog module ${modulePath}: ${firstLine(error)}`);
  }
  if (loaded.default === undefined)
    throw new Error(
      `the catalog module ${modulePath} has no default export (export default defineCatalog({ … }))`,
    );
  return parseCatalog(loaded.default);
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];
