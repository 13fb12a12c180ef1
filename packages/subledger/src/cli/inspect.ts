import { Command, Option } from 'commander';
import type { z } from 'zod';
import { type Config, loadConfig } from '../config/index.ts';
import { type Database, openDatabase } from '../store/index.ts';
import { createStripeClient } from '../stripe/index.ts';
import { isLiveKey } from '../stripe/key-mode.ts';
import {
  type AccountView,
  accountIdSchema,
  accountView,
  defaultPlace,
  describeEvent,
  type EventRecord,
  syncAccount,
} from '../sync/index.ts';
import { invalidArgument, notFound, parseOption, stripeNotConfigured } from './failures.ts';
import { eventIdSchema } from './replay.ts';

/** `subledger inspect account <account-id>` and `subledger inspect event <event-id>`. */
export function inspectCommand(): Command {
  return new Command('inspect')
    .description('Show what the mirror holds for an account, or the history of an inbox event')
    .addCommand(accountCommand())
    .addCommand(eventCommand());
}

type AccountFlags = { json?: boolean; sync?: boolean; live?: boolean; test?: boolean };

function accountCommand(): Command {
  return new Command('account')
    .description("An app account's customer, subscriptions, recent invoices and entitlements")
    .argument('<account-id>', "the app's own id for the account")
    .option('--json', 'print the JSON of GET /v1/accounts/:account_id')
    .option('--sync', 'read the account from Stripe first (needs STRIPE_SECRET_KEY)')
    .addOption(new Option('--live', "read the mirror's live mode").conflicts('test'))
    .addOption(
      new Option('--test', "read the mirror's test mode (default: the mode of STRIPE_SECRET_KEY, else test)"),
    )
    .action(async (id: string, flags: AccountFlags) => {
      const accountId = valid(accountIdSchema, id, 'account-id');
      const config = loadConfig();
      if (flags.sync && !config.stripeSecretKey)
        throw stripeNotConfigured(
          'inspect account --sync reads Stripe: set STRIPE_SECRET_KEY (and STRIPE_API_BASE for the emulator)',
        );
      const mode = inspectedMode(flags, config.stripeSecretKey);
      const view = await withDatabase(config, (database) =>
        readAccount(config, database, accountId, { mode, sync: flags.sync === true }),
      );
      console.log(flags.json ? JSON.stringify(view) : formatAccount(view));
    });
}

/** The mode of the mirror `inspect account` reads, and what chose it. */
export type InspectedMode = { livemode: boolean; chosenBy: 'flag' | 'key' | 'no key' };

const modeName = (livemode: boolean) => (livemode ? 'live' : 'test');

/**
 * `--live` or `--test` when given, else the mode of STRIPE_SECRET_KEY, else test. Reading the mirror
 * needs no key, so an operator without one names the mode; the output says which mode was read. `--sync`
 * reads Stripe with the key, so only in the key's mode (pure).
 */
export function inspectedMode(flags: AccountFlags, secretKey: string | undefined): InspectedMode {
  const keyLivemode = isLiveKey(secretKey);
  if (!flags.live && !flags.test) return { livemode: keyLivemode, chosenBy: secretKey ? 'key' : 'no key' };
  const livemode = flags.live === true;
  if (flags.sync && livemode !== keyLivemode)
    throw invalidArgument(
      `--sync reads Stripe with STRIPE_SECRET_KEY, a ${modeName(keyLivemode)} key: it cannot read ${modeName(livemode)} mode`,
    );
  return { livemode, chosenBy: 'flag' };
}

/** Why the mode read was read, and how to read the other: the hint of an account not found. */
function modeHint({ livemode, chosenBy }: InspectedMode): string {
  const reason = {
    flag: `--${modeName(livemode)}`,
    key: 'the mode of STRIPE_SECRET_KEY',
    'no key': 'no STRIPE_SECRET_KEY is set',
  }[chosenBy];
  return `${reason}; --${modeName(!livemode)} reads ${modeName(!livemode)} mode, --sync reads Stripe`;
}

async function readAccount(
  config: Config,
  database: Database,
  accountId: string,
  options: { mode: InspectedMode; sync: boolean },
): Promise<AccountView> {
  const place = { ...defaultPlace(config.stripeSecretKey), livemode: options.mode.livemode };
  if (!options.sync) {
    const view = await accountView(database, accountId, place);
    if (view) return view;
    throw notFound(
      'account_not_found',
      `no Stripe customer is linked to account ${accountId} in the mirror's ${modeName(place.livemode)} ` +
        `mode (${modeHint(options.mode)})`,
    );
  }
  const stripe = createStripeClient({
    secretKey: config.stripeSecretKey as string,
    apiBase: config.stripeApiBase,
  });
  const context = { accountKeys: config.accountKeys };
  const result = await syncAccount({ database, stripe, context, accountId, place });
  if (result.ok) return result.account;
  throw result.code === 'account_not_found'
    ? notFound(result.code, result.message)
    : stripeNotConfigured(result.message);
}

function eventCommand(): Command {
  return new Command('event')
    .description('An inbox event: status, outcome, attempts, last error, received and processed times')
    .argument('<event-id>', 'the Stripe event id (evt_…)')
    .option('--json', 'print it as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const eventId = parseOption(eventIdSchema, id);
      const config = loadConfig();
      const record = await withDatabase(config, (database) => describeEvent(database, eventId));
      if (!record) throw notFound('event_not_found', `no event ${eventId} in the inbox`);
      console.log(options.json ? JSON.stringify(record) : formatEvent(record));
    });
}

async function withDatabase<T>(config: Config, use: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(config);
  try {
    return await use(database);
  } finally {
    await database.close();
  }
}

function valid<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalidArgument(`${name} ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
}

const day = (seconds: number | null) =>
  seconds === null ? '—' : new Date(seconds * 1000).toISOString().slice(0, 10);

/** An amount in the currency's smallest unit, written in its major unit (2000 usd → $20.00). */
export function money(amount: number | null, currency: string | null): string {
  if (amount === null || !currency) return '—';
  const format = new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() });
  return format.format(amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
}

/** The short human summary of an account (pure). */
export function formatAccount(view: AccountView): string {
  const customer = view.customer
    ? `customer ${view.customer.id}${view.customer.email ? ` (${view.customer.email})` : ''}`
    : 'no customer mirrored';
  const lines = [`Account ${view.account_id} (${modeName(view.livemode)} mode): ${customer}`];
  lines.push(view.subscriptions.length > 0 ? 'Subscriptions:' : 'Subscriptions: none');
  for (const subscription of view.subscriptions) {
    const items = subscription.items.map((item) => `${item.price} × ${item.quantity ?? 1}`).join(', ');
    const notes = [
      subscription.cancel_at_period_end ? 'cancels at period end' : null,
      subscription.trial_end ? `trial until ${day(subscription.trial_end)}` : null,
    ].filter((note) => note !== null);
    lines.push(
      `  ${subscription.id}  ${subscription.status}  ${items}  period ends ${day(subscription.current_period_end)}` +
        (notes.length > 0 ? `  (${notes.join(', ')})` : ''),
    );
  }
  lines.push(view.invoices.length > 0 ? 'Recent invoices:' : 'Recent invoices: none');
  for (const invoice of view.invoices)
    lines.push(
      `  ${invoice.id}  ${invoice.status}  ${money(invoice.amount_paid, invoice.currency)} paid of ${money(invoice.amount_due, invoice.currency)}  ${day(invoice.created)}`,
    );
  lines.push(`Entitlements: ${view.entitlements.length > 0 ? view.entitlements.join(', ') : 'none'}`);
  lines.push(`Synced: ${view.synced_at === null ? 'never' : new Date(view.synced_at * 1000).toISOString()}`);
  return lines.join('\n');
}

/** The queued read from Stripe an event waits for. */
const readLine = (read: NonNullable<EventRecord['read']>) =>
  read.attempts === 0
    ? 'queued from Stripe'
    : `failed ${read.attempts} times, next at ${read.available_at}: ${read.last_error ?? '—'}`;

/** The short human summary of an inbox event (pure). */
export function formatEvent(record: EventRecord): string {
  const rows: [string, unknown][] = [
    ['event', `${record.id} (${record.type})`],
    ['object', record.object_id ? `${record.object_type} ${record.object_id}` : '—'],
    ['status', record.outcome ? `${record.status}, ${record.outcome}` : record.status],
    [
      'attempts',
      record.replayed_attempts > 0
        ? `${record.attempts} (${record.attempts - record.replayed_attempts} since its replay)`
        : record.attempts,
    ],
    ['received', record.received_at],
    ['processed', record.processed_at ?? '—'],
    ['next attempt', record.status === 'pending' ? record.available_at : '—'],
    ['last error', record.last_error ?? '—'],
    ...(record.read ? ([['read', readLine(record.read)]] as [string, unknown][]) : []),
  ];
  return rows.map(([label, value]) => `${`${label}:`.padEnd(14)}${String(value)}`).join('\n');
}
