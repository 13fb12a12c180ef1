/**
 * Writes the client's inputs from the server's route declarations: `openapi.json` (the document
 * `/openapi.json` serves) and `src/schema.ts` (its types, by openapi-typescript).
 *
 *   npm run generate -w @subledger/client
 */
import { writeFile } from 'node:fs/promises';
import { documentText, schemaText } from './document.ts';

const root = new URL('../', import.meta.url);
await writeFile(new URL('openapi.json', root), documentText());
await writeFile(new URL('src/schema.ts', root), await schemaText());
console.log('wrote openapi.json and src/schema.ts');
