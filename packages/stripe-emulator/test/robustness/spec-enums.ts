import { readFileSync } from 'node:fs';

const SPEC = new URL('../../../../../shared/stripe-reference/openapi/spec3.2024-04-10.json', import.meta.url);

type SchemaNode = { [key: string]: unknown };

/**
 * The values Stripe's OpenAPI document allows for each request parameter name, across all endpoints
 * (`interval` → day, week, month, year). The zod schemas hide their enums inside transforms, so the
 * fuzzer takes them from here to get past validation into the handlers.
 */
export function requestEnumsByName(): Map<string, string[]> {
  const spec = JSON.parse(readFileSync(SPEC, 'utf8')) as {
    paths: Record<string, Record<string, SchemaNode>>;
  };
  const found = new Map<string, Set<string>>();
  const walk = (node: unknown, name: string, depth: number): void => {
    if (!node || typeof node !== 'object' || depth > 12) return;
    const schema = node as SchemaNode;
    if (Array.isArray(schema.enum)) {
      const values = found.get(name) ?? new Set<string>();
      for (const value of schema.enum) if (typeof value === 'string' && value !== '') values.add(value);
      found.set(name, values);
    }
    for (const key of ['anyOf', 'oneOf', 'allOf'])
      for (const option of (schema[key] as unknown[] | undefined) ?? []) walk(option, name, depth + 1);
    if (schema.items) walk(schema.items, name, depth + 1);
    for (const [property, child] of Object.entries((schema.properties as SchemaNode | undefined) ?? {}))
      walk(child, property, depth + 1);
  };
  for (const operations of Object.values(spec.paths))
    for (const operation of Object.values(operations)) {
      const body = (operation.requestBody as SchemaNode | undefined)?.content as SchemaNode | undefined;
      walk((body?.['application/x-www-form-urlencoded'] as SchemaNode | undefined)?.schema, '', 0);
      for (const parameter of (operation.parameters as SchemaNode[] | undefined) ?? [])
        walk(parameter.schema, String(parameter.name), 0);
    }
  return new Map([...found].map(([name, values]) => [name, [...values].sort()]));
}
