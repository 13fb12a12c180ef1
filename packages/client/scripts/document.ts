import openapiTS, { astToString } from 'openapi-typescript';
import { apiDocument } from 'subledger';

const HEADER = `/**
 * The Subledger API's types, generated from openapi.json by openapi-typescript.
 * Do not edit: run \`npm run generate -w @subledger/client\` after changing a route.
 */
`;

/** The OpenAPI document as the client keeps it. */
export const documentText = (): string => `${JSON.stringify(apiDocument(), null, 2)}\n`;

/** The TypeScript types of the document's paths and schemas. */
export async function schemaText(): Promise<string> {
  const ast = await openapiTS(JSON.parse(documentText()), { exportType: true });
  return HEADER + astToString(ast);
}
