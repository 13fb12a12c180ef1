import { type SQL, sql } from 'drizzle-orm';
import { pgArray } from './bulk-upsert.ts';
import type { MirrorWrite } from './mirror-writer.ts';

/** Checkout session metadata naming the credits a one-time payment buys: `<credit type>:<amount per unit>`. */
export const TOP_UP_METADATA_KEY = 'subledger_top_up';

/** Workers that grant credits listen here; a notice only says "look", the requests table is the truth. */
export const CREDIT_GRANTS_CHANNEL = 'subledger_credit_grants';

type GrantSource = { kind: 'invoice' | 'top_up'; write: MirrorWrite };

/** What a written object may grant: a paid subscription invoice, or a paid top-up checkout. */
function grantSourceOf(write: MirrorWrite): GrantSource | null {
  if (write.deleted) return null;
  const object = write.object;
  if (write.kind === 'invoice' && object.status === 'paid') return { kind: 'invoice', write };
  const metadata = object.metadata as Record<string, string> | null | undefined;
  if (
    write.kind === 'checkout.session' &&
    object.mode === 'payment' &&
    object.payment_status === 'paid' &&
    metadata?.[TOP_UP_METADATA_KEY]
  )
    return { kind: 'top_up', write };
  return null;
}

/**
 * Asks for the credits the written objects grant, in the transaction that writes them: the statement,
 * to be run with the writer's others (`writeTogether`), or null when nothing is to be asked. A source
 * asked for before is not asked again; the credits side decides what (if anything) it grants.
 * PostgreSQL sends one notice per channel and transaction, however many rows ask.
 */
export function creditGrantRequests(written: readonly MirrorWrite[]): SQL | null {
  const sources = written.map(grantSourceOf).filter((source) => source !== null);
  if (sources.length === 0) return null;
  return sql`
    insert into credit_grant_requests (source_kind, source_id, stripe_account, livemode)
    select * from unnest(${pgArray(sources.map((source) => source.kind))}::text[],
                         ${pgArray(sources.map((source) => source.write.id))}::text[],
                         ${pgArray(sources.map((source) => source.write.stripeAccount))}::text[],
                         ${pgArray(sources.map((source) => source.write.livemode))}::boolean[])
    on conflict do nothing
    returning pg_notify(${CREDIT_GRANTS_CHANNEL}, '') is null as notified`;
}
