import { sql } from 'drizzle-orm';
import type { ColumnContext } from './kinds.ts';
import {
  accountKey,
  allowedBy,
  type CustomerClaim,
  type CustomerRef,
  customerClaims,
  customerKey,
  displacedBy,
  type Link,
  linkOf,
  newerThanStored,
  newestOf,
  type Statement,
  statementOf,
} from './link-rule.ts';
import {
  type Executor,
  linkLockKeys,
  linksHeldBy,
  lockLinks,
  mirroredClaims,
  saveLinks,
  sessionsOfCustomers,
  statementsNaming,
  storedLinks,
  tryLockLinks,
  withdrawDisowned,
} from './link-store.ts';
import type { MirrorWrite } from './mirror-writer.ts';

export type { Link } from './link-rule.ts';

/**
 * The account ↔ customer mapping, from two kinds of statement in Stripe:
 *
 * - A customer's `subledger_account_id` metadata is the authority on that customer. A customer whose
 *   metadata names account X is linked to no other account; one whose metadata names none keeps only a
 *   link a checkout session made.
 * - A completed checkout session naming an account links its customer to it, unless that customer's
 *   metadata names another account (an app's own Checkout on an account's customer may name the buyer).
 *
 * Among the statements for one account (or one customer), the newest wins, ties broken by
 * `compareStatements`, whatever order the objects are written in: a backfill lists them newest first
 * and must end with the links the webhooks made. An account that loses its customer falls back on the
 * newest other statement the mirror holds for it (see `fallBack`), and so does a customer that loses its
 * account; a customer whose metadata changed has the checkout sessions it refused weighed again. Returns
 * the links made and the links withdrawn, so that both the accounts gained and the accounts left are
 * told of the change. A deleted customer states what its row holds (a bare tombstone keeps the metadata
 * the customer last had) and keeps the link that backs; its accounts are weighed again, as it now loses
 * to any live customer's statement (`compareStatements`).
 *
 * Locks: the batch's own accounts and customers first, waiting for them in one order (`lockLinks`);
 * those the fallback finds it needs only afterwards are taken without waiting. Were it to wait for them,
 * two batches could each hold what the other waits for, until PostgreSQL failed one of them (after
 * `deadlock_timeout`, a second by default). When one is held elsewhere, the batch's linking is rolled back
 * to a savepoint, which frees its locks, and done again with those locks waited for in the first round.
 * Each such round waits for more locks than the one before, so it ends. A transaction calls this once: it
 * holds no link lock when it waits for one.
 */
export async function linkAccounts(
  db: Executor,
  written: MirrorWrite[],
  context: ColumnContext,
): Promise<Link[]> {
  const claims = customerClaims(written);
  const stated = written.flatMap((write) => statementOf(write, context) ?? []);
  const own = linkLockKeys(stated, [...claims.values(), ...stated]);
  if (own.length === 0) return [];
  await db.execute(sql`savepoint subledger_links`);
  for (let wanted = own; ; ) {
    try {
      await lockLinks(db, wanted);
      return await link(db, claims, stated);
    } catch (error) {
      if (!(error instanceof LinkLocksHeld)) throw error;
      await db.execute(sql`rollback to savepoint subledger_links`);
      wanted = [...new Set([...wanted, ...error.keys])];
    }
  }
}

/** Some of the locks a fallback round needs are held by another transaction. */
class LinkLocksHeld extends Error {
  readonly keys: string[];
  constructor(keys: string[]) {
    super('link locks held by another transaction');
    this.keys = keys;
  }
}

/** Takes the locks a round after the first needs, at once, or throws `LinkLocksHeld`. */
async function lockMore(db: Executor, keys: string[]): Promise<void> {
  if (!(await tryLockLinks(db, keys))) throw new LinkLocksHeld(keys);
}

/** Links the batch's statements, its own locks held (see `linkAccounts`). */
async function link(db: Executor, claims: Map<string, CustomerClaim>, stated: Link[]): Promise<Link[]> {
  const { withdrawn, reopened } = await withdrawDisowned(db, [...claims.values()]);
  // A deleted customer keeps its links but no longer wins over a live customer: a live customer's
  // statement, which lost to it while it lived (an older one, or one of the same second), takes its
  // account now (`compareStatements`).
  const heldByDeleted = await linksHeldBy(
    db,
    [...claims.values()].filter((claim) => claim.deleted),
  );
  const allowed = await allowedStatements(db, stated, claims);
  const stored = await storedLinks(db, stated);
  const made = newestOf(newerThanStored(allowed, stored)).map(linkOf);
  const left = await saveLinks(db, made);
  // Besides the accounts left, an account whose newest statement in the batch lost to its customer's
  // newer link (or was refused by its customer) may hold none: its older statements are weighed too.
  const lost = unlinked([...withdrawn, ...left], made);
  const outstated = unlinked(stated, [...made, ...lost]).filter(
    (account) => !stored.byAccount.has(accountKey(account)),
  );
  // A checkout its customer's metadata refused may link once the metadata changed (`reopened`), and
  // one its customer's newer link outdated once its account took another customer (`displacedBy`). An
  // account whose customer withdrew is weighed again even when the batch linked it: the mirror may hold
  // a newer statement for it than the batch's, one the withdrawn link had outdated.
  const fallen = await fallBack(
    db,
    {
      accounts: [...lost, ...outstated, ...reopened, ...withdrawn, ...heldByDeleted],
      customers: displacedBy(made, stored),
    },
    claims,
    stated,
  );
  return [...withdrawn, ...left, ...made, ...fallen];
}

/** The accounts of `links` (once each) that no link made holds. */
function unlinked(links: Link[], made: Link[]): Link[] {
  const held = new Set(made.map(accountKey));
  return oncePerAccount(links).filter((link) => !held.has(accountKey(link)));
}

const oncePerAccount = (links: Link[]): Link[] => [
  ...new Map(links.map((link) => [accountKey(link), link])).values(),
];

/**
 * An account that lost its customer (its metadata no longer names the account, another account's
 * newer statement took it) is linked to its newest other statement the mirror holds, as reconcile, or
 * a backfill of the same state, would link it: without this, it went without access until then. The
 * newest statement not outdated by its customer's own link wins. A customer left without an account
 * (`lost.customers`) brings in the accounts its checkout sessions name. Taking a customer from another
 * account may leave that one without a link, or an account's new customer its old one without an
 * account, so this repeats; each round only replaces an account's link with a newer statement, so it
 * ends.
 */
async function fallBack(
  db: Executor,
  lost: { accounts: Link[]; customers: CustomerRef[] },
  claims: Map<string, CustomerClaim>,
  stated: Link[],
): Promise<Link[]> {
  // The batch's customers state only what the batch wrote of them (`stated`): the mirror may not hold
  // it yet.
  const fromMirror = (statements: Link[]) =>
    statements.filter((s) => s.source !== 'customer_metadata' || !claims.has(customerKey(s)));
  const ownNaming = (accounts: Link[]) => {
    const named = new Set(accounts.map(accountKey));
    return stated.filter((s) => s.source === 'customer_metadata' && named.has(accountKey(s)));
  };
  const changed: Link[] = [];
  for (let { accounts, customers } = lost; accounts.length + customers.length > 0; ) {
    // Locked before their sessions are read: a concurrent batch writing one commits first, else a
    // checkout it adds is seen by neither (it weighed the customer's link this batch displaces).
    await lockMore(db, linkLockKeys([], customers));
    accounts = oncePerAccount([...accounts, ...(await sessionsOfCustomers(db, customers))]);
    if (accounts.length === 0) break;
    await lockMore(db, linkLockKeys(accounts, fromMirror(await statementsNaming(db, accounts))));
    const candidates = [...fromMirror(await statementsNaming(db, accounts)), ...ownNaming(accounts)];
    const allowed = await allowedStatements(db, candidates, claims);
    const stored = await storedLinks(db, allowed);
    const chosen = newestOf(newerThanStored(allowed, stored)).map(linkOf);
    const left = await saveLinks(db, chosen);
    changed.push(...left, ...chosen);
    accounts = unlinked(left, chosen);
    customers = displacedBy(chosen, stored);
  }
  return changed;
}

/** The statements their customer's metadata allows; the customer is the batch's, else the mirror's. */
async function allowedStatements(
  db: Executor,
  links: Link[],
  claims: Map<string, CustomerClaim>,
): Promise<Statement[]> {
  const mirrored = await mirroredClaims(
    db,
    links.filter((link) => !claims.has(customerKey(link))),
  );
  return allowedBy(links, (link) => claims.get(customerKey(link)) ?? mirrored.get(customerKey(link)));
}
