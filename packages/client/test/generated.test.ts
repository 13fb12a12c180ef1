import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { documentText, schemaText } from '../scripts/document.ts';

const read = (file: string) => readFile(new URL(`../${file}`, import.meta.url), 'utf8');

// A route changed without `npm run generate -w @subledger/client` leaves the client describing another API.
test('openapi.json is the document the server declares', async () => {
  assert.equal(await read('openapi.json'), documentText());
});

test('src/schema.ts is what openapi-typescript makes of openapi.json', async () => {
  assert.equal(await read('src/schema.ts'), await schemaText());
});
