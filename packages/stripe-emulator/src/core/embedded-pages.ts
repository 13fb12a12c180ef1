/**
 * Stripe embeds only the first page (10 rows) of the lists some objects hold: a subscription's items,
 * an invoice's lines, an entitlement summary's entitlements. `has_more` says there are more, and the
 * rest is read from the list's own endpoint. The store keeps every row, because billing reads all of a
 * subscription's items and all of an invoice's lines; what leaves the emulator (an answer, an event)
 * carries the first page only, as Stripe's do.
 */

/** The list field each kind embeds one page of. */
const EMBEDDED_LISTS: Readonly<Record<string, string>> = {
  subscription: 'items',
  invoice: 'lines',
  'entitlements.active_entitlement_summary': 'entitlements',
};

const EMBEDDED_FIELDS = new Set(Object.values(EMBEDDED_LISTS));

export const EMBEDDED_PAGE_SIZE = 10;

type Rows = { data: unknown[]; has_more?: boolean };

const hasRows = (value: unknown): value is Rows =>
  typeof value === 'object' && value !== null && Array.isArray((value as Rows).data);

/** The list's first page; `has_more` is set when rows were left out (a list without it stays so). */
function firstPage(list: unknown): unknown {
  if (!hasRows(list) || list.data.length <= EMBEDDED_PAGE_SIZE) return list;
  return {
    ...list,
    data: list.data.slice(0, EMBEDDED_PAGE_SIZE),
    ...('has_more' in list ? { has_more: true } : {}),
  };
}

const embeddedField = (holder: unknown): string | undefined => {
  const kind = (holder as { object?: unknown } | null)?.object;
  return typeof kind === 'string' ? EMBEDDED_LISTS[kind] : undefined;
};

/**
 * A `JSON.stringify` replacer that renders every embedded list as its first page, wherever the object
 * holding it sits in an answer: at the top, in a list, or expanded into another object.
 */
export function embeddedPages(this: unknown, key: string, value: unknown): unknown {
  // Called for every key of an answer: the field name is compared first, the holder only for those.
  return EMBEDDED_FIELDS.has(key) && embeddedField(this) === key ? firstPage(value) : value;
}

/**
 * `holder` with the list that objects of `kind` embed cut to its first page: an event's object, or
 * its previous attributes (an event payload is one object, never expanded).
 */
export function withFirstPage<T extends Record<string, unknown>>(holder: T, kind: unknown): T {
  const field = embeddedField({ object: kind });
  return field !== undefined && field in holder ? { ...holder, [field]: firstPage(holder[field]) } : holder;
}
