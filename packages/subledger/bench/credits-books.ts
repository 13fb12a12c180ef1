import type { Book } from './credits-ledgers.ts';

/** What the tables say after a phase, against what the bench granted and what its clients were told. */
export type Check = {
  /** Credits spent beyond an account's grant, summed over accounts: must be 0. */
  overdraft: number;
  /** Every account: granted as the bench granted, remaining + spent = granted, and spends = ok answers. */
  exact: boolean;
  problems: string[];
};

/**
 * `answeredSpent` is how many consumes the clients were told succeeded (warm-up included); `spendsAll`
 * names accounts whose demand exceeded their grant, which must end with exactly their grant spent.
 */
export function checkBooks(
  books: readonly Book[],
  grants: ReadonlyMap<string, number>,
  answeredSpent: number,
  spendsAll: readonly string[] = [],
): Check {
  const problems: string[] = [];
  const byAccount = new Map(books.map((book) => [book.accountId, book]));
  let overdraft = 0;
  for (const [accountId, granted] of grants) {
    const book = byAccount.get(accountId);
    if (!book) {
      problems.push(`${accountId}: no balance in the tables`);
      continue;
    }
    overdraft += Math.max(0, book.spent - granted);
    if (book.granted !== granted) problems.push(`${accountId}: granted ${book.granted}, not ${granted}`);
    if (book.remaining + book.spent !== granted)
      problems.push(`${accountId}: remaining ${book.remaining} + spent ${book.spent} ≠ granted ${granted}`);
  }
  for (const accountId of spendsAll) {
    const spent = byAccount.get(accountId)?.spent;
    if (spent !== grants.get(accountId))
      problems.push(`${accountId}: spent ${spent} of a grant of ${grants.get(accountId)} it asked more than`);
  }
  const recorded = books.reduce((sum, book) => sum + book.spent, 0);
  if (recorded !== answeredSpent)
    problems.push(`${recorded} spends recorded, ${answeredSpent} answered as spent`);
  return { overdraft, exact: problems.length === 0, problems };
}
