import { z } from 'zod';
import { resourceMissing } from './errors.ts';
import { int } from './params.ts';

/** The pagination parameters every Stripe list endpoint takes. */
export const paginationParams = {
  limit: int({ min: 1, max: 100 }).optional(),
  starting_after: z.string().optional(),
  ending_before: z.string().optional(),
};

export type Pagination = {
  limit?: number | undefined;
  starting_after?: string | undefined;
  ending_before?: string | undefined;
};

export type ListObject<T> = { object: 'list'; data: T[]; has_more: boolean; url: string };

/**
 * Cuts one page out of rows ordered newest first, with Stripe's cursor rules: `starting_after` pages
 * towards older objects, `ending_before` towards newer ones, and an unknown cursor is a 404.
 */
export function paginate<T extends { id: string }>(
  rowsNewestFirst: T[],
  pagination: Pagination,
  url: string,
  objectName: string,
): ListObject<T> {
  const limit = pagination.limit ?? 10;
  const cursorIndex = (cursor: string, param: string) => {
    const index = rowsNewestFirst.findIndex((row) => row.id === cursor);
    if (index < 0) throw resourceMissing(objectName, cursor, param);
    return index;
  };
  if (pagination.ending_before) {
    const end = cursorIndex(pagination.ending_before, 'ending_before');
    const start = Math.max(0, end - limit);
    return { object: 'list', data: rowsNewestFirst.slice(start, end), has_more: start > 0, url };
  }
  const start = pagination.starting_after ? cursorIndex(pagination.starting_after, 'starting_after') + 1 : 0;
  const data = rowsNewestFirst.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < rowsNewestFirst.length, url };
}

/**
 * A list embedded in another object, as the store keeps it: every row. What leaves the emulator is its
 * first page (`embedded-pages.ts`).
 */
export function embeddedList<T>(data: T[], url: string): ListObject<T> & { total_count?: number } {
  return { object: 'list', data, has_more: false, url };
}

/** Filters on `created` (`created[gte]=…`) shared by many list endpoints. */
export const createdFilterParam = z
  .union([
    int(),
    z.strictObject({
      gt: int().optional(),
      gte: int().optional(),
      lt: int().optional(),
      lte: int().optional(),
    }),
  ])
  .optional();

export function matchesCreated(created: number, filter: z.infer<typeof createdFilterParam>): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'number') return created === filter;
  return (
    (filter.gt === undefined || created > filter.gt) &&
    (filter.gte === undefined || created >= filter.gte) &&
    (filter.lt === undefined || created < filter.lt) &&
    (filter.lte === undefined || created <= filter.lte)
  );
}
