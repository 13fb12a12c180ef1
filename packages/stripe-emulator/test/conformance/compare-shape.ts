/**
 * Structural comparison of two JSON values: the reference (a Stripe fixture or recorded response) and
 * what the emulator returned. Only shapes count (key sets and JSON types, recursively), never values.
 *
 * Rules:
 * - `null` on either side is compatible with anything: Stripe fields are nullable and fixtures fill
 *   them with examples while a fresh emulator object leaves them `null` (and the other way round).
 * - An expandable field may be an id string on one side and the object on the other, unless the path
 *   was listed in `expand[]` (then the emulator must return the object, as Stripe does).
 * - Arrays compare each actual element with the reference element of the same `object`/`type` (else
 *   the first); an empty array on either side has nothing to compare.
 * - Maps (metadata, per-currency balances …) hold data, not schema: only their JSON type is compared.
 */

export type JsonType = 'null' | 'string' | 'number' | 'boolean' | 'array' | 'object';

/** A path into a JSON value: object keys, and `[]` for "any element of this array". */
export type Path = readonly string[];

export type Difference =
  | { kind: 'missing'; path: Path }
  | { kind: 'invented'; path: Path }
  | { kind: 'type'; path: Path; expected: JsonType; actual: JsonType };

export type CompareOptions = {
  /** True for paths whose value is a free-form map (its keys are data, not fields). */
  isMap?: (path: Path) => boolean;
  /** True for paths compared by JSON type only (polymorphic payloads compared elsewhere). */
  isOpaque?: (path: Path) => boolean;
  /** `expand[]` entries of the request (`latest_invoice.payments`, `data.customer` …). */
  expanded?: readonly string[];
};

export function jsonType(value: unknown): JsonType {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return type;
  return 'object';
}

export function compareShape(expected: unknown, actual: unknown, options: CompareOptions = {}): Difference[] {
  const expandedPaths = new Set(options.expanded ?? []);
  const differences: Difference[] = [];
  visit(expected, actual, [], { ...options, expandedPaths }, differences);
  return differences;
}

type Context = CompareOptions & { expandedPaths: Set<string> };

function visit(expected: unknown, actual: unknown, path: Path, context: Context, out: Difference[]): void {
  const expectedType = jsonType(expected);
  const actualType = jsonType(actual);
  if (expectedType === 'null' || actualType === 'null') return;
  if (expectedType !== actualType) {
    if (!isExpansionPair(expected, actual) || context.expandedPaths.has(expandPath(path)))
      out.push({ kind: 'type', path, expected: expectedType, actual: actualType });
    return;
  }
  if (context.isOpaque?.(path) || context.isMap?.(path)) return;
  if (expectedType === 'array') visitArray(expected as unknown[], actual as unknown[], path, context, out);
  if (expectedType === 'object')
    visitObject(expected as Record<string, unknown>, actual as Record<string, unknown>, path, context, out);
}

function visitObject(
  expected: Record<string, unknown>,
  actual: Record<string, unknown>,
  path: Path,
  context: Context,
  out: Difference[],
): void {
  for (const key of Object.keys(expected))
    if (!(key in actual)) out.push({ kind: 'missing', path: [...path, key] });
  for (const key of Object.keys(actual)) {
    if (!(key in expected)) out.push({ kind: 'invented', path: [...path, key] });
    else visit(expected[key], actual[key], [...path, key], context, out);
  }
}

function visitArray(expected: unknown[], actual: unknown[], path: Path, context: Context, out: Difference[]) {
  if (expected.length === 0) return;
  const itemPath = [...path, '[]'];
  const seen = new Set<string>();
  for (const item of actual) {
    const before = out.length;
    visit(counterpart(expected, item), item, itemPath, context, out);
    // One report per distinct difference, however many elements share it.
    const fresh = out.splice(before).filter((d) => {
      const key = `${d.kind}:${d.path.join('.')}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    out.push(...fresh);
  }
}

/** The reference element describing the same kind of thing as `item` (same `object`, then `type`). */
function counterpart(expected: unknown[], item: unknown): unknown {
  const discriminated = (field: string) => {
    const value = (item as Record<string, unknown> | null)?.[field];
    if (typeof value !== 'string') return undefined;
    return expected.find((e) => (e as Record<string, unknown> | null)?.[field] === value);
  };
  return discriminated('object') ?? discriminated('type') ?? expected[0];
}

/** An id on one side and an object with that kind of id on the other: the field is expandable. */
function isExpansionPair(a: unknown, b: unknown): boolean {
  const [text, object] = typeof a === 'string' ? [a, b] : [b, a];
  return (
    typeof text === 'string' &&
    jsonType(object) === 'object' &&
    typeof (object as Record<string, unknown>).id === 'string'
  );
}

/** The `expand[]` spelling of a path: array steps vanish (`refunds.data.balance_transaction`). */
export function expandPath(path: Path): string {
  return path.filter((segment) => segment !== '[]').join('.');
}

export function formatPath(path: Path): string {
  return path.join('.').replaceAll('.[]', '[]');
}

export function describe(difference: Difference): string {
  const at = formatPath(difference.path);
  if (difference.kind === 'type') return `${at}: ${difference.expected} ≠ ${difference.actual}`;
  return difference.kind === 'missing' ? `-${at}` : `+${at}`;
}
