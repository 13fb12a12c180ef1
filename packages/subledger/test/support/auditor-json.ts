/** JSON values as the auditor compares them: Stripe's objects and the mirror's rows alike. */

export type Json = unknown;

export const toJson = (value: unknown): Json => JSON.parse(JSON.stringify(value));

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The value at `path` (`['recurring', 'interval']`), or undefined where the path stops. */
export const valueAt = (value: Json, path: readonly string[]): Json =>
  path.reduce<Json>((inner, key) => (isRecord(inner) ? inner[key] : undefined), value);

/** The id of a reference that is an id or an expanded object. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : null;
}

export function without(value: Json, fields: readonly string[]): Json {
  if (!isRecord(value)) return value;
  const copy = { ...value };
  for (const field of fields) delete copy[field];
  return copy;
}

/** The paths (`items.data[0].quantity`) at which two JSON values differ, at most `limit` of them. */
export function differingPaths(expected: Json, actual: Json, limit = 12): string[] {
  const paths: string[] = [];
  const walk = (a: Json, b: Json, path: string) => {
    if (paths.length >= limit) return;
    if (Object.is(a, b)) return;
    const bothArrays = Array.isArray(a) && Array.isArray(b);
    const bothObjects = isRecord(a) && isRecord(b);
    if (bothArrays) {
      if (a.length !== b.length) paths.push(`${path || '.'}.length ${a.length} ≠ ${b.length}`);
      for (let index = 0; index < Math.min(a.length, b.length); index++)
        walk(a[index], b[index], `${path}[${index}]`);
    } else if (bothObjects) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
        walk(a[key], b[key], path ? `${path}.${key}` : key);
    } else paths.push(`${path || '.'}: ${brief(a)} ≠ ${brief(b)}`);
  };
  walk(expected, actual, '');
  return paths;
}

function brief(value: Json): string {
  const text = value === undefined ? 'absent' : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}
