import type Stripe from 'stripe';
import {
  type Catalog,
  loadCatalog,
  plansOf,
  priceByLookupKey,
  pushCatalog,
  summarizeChanges,
} from '../catalog/index.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { configuredStripe } from './backfill.ts';
import { createDemoAccounts, DEMO_ACCOUNTS, type DemoAccountId } from './demo-accounts.ts';

/** The demo catalog's price the demo accounts subscribe to, when the app's catalog has it too. */
const DEMO_LOOKUP_KEY = 'pro_monthly';

/**
 * Fills the emulator `start` chose with the app's catalog (else the demo catalog) and the demo accounts,
 * one per access state, so a newcomer's first requests get real answers. The emulator lives in memory,
 * so every start fills a fresh one: its new customers take the demo accounts over in the mirror.
 *
 * Never rejects: the server is useful without the demo, so a failure is logged and the server runs on.
 * A failure after `stopping` is aborted is the shutdown closing the emulator under it, not news.
 */
export async function setUpDemo(
  config: Config,
  logger: Logger,
  serverUrl: string,
  stopping: AbortSignal,
): Promise<void> {
  try {
    logger.info(await fillEmulator(config, serverUrl), DEMO_READY);
  } catch (error) {
    if (stopping.aborted) logger.info('Demo setup stopped by the shutdown');
    else
      logger.error(
        { err: error },
        'Demo setup failed: the server runs on without the demo catalog or accounts (SUBLEDGER_DEMO=0 skips it)',
      );
  }
}

const DEMO_READY =
  'Demo ready: the catalog is in the emulator, and one demo account per access state is syncing ' +
  'through webhooks; ask about one with GET /v1/accounts/demo_active/entitlements or POST /v1/check, ' +
  'with a key from `npx subledger keys create --scope read` as `Authorization: Bearer <key>`';

async function fillEmulator(config: Config, serverUrl: string) {
  const catalog = await loadCatalog(config.catalogModule);
  const stripe = configuredStripe(config, 'the demo');
  const changes = await pushCatalog(stripe, catalog);
  const lookupKey = demoLookupKey(catalog);
  if (!lookupKey) throw new Error('the catalog has no paid price to subscribe the demo accounts to');
  const subscriptions = await createDemoAccounts(stripe, await priceIdOf(stripe, lookupKey));
  return {
    catalog: config.catalogModule ?? 'the demo catalog',
    plans: plansOf(catalog).map((plan) => plan.id),
    catalogPush: summarizeChanges(changes),
    price: lookupKey,
    accounts: Object.fromEntries(
      (Object.keys(DEMO_ACCOUNTS) as DemoAccountId[]).map((accountId) => [
        accountId,
        { access: DEMO_ACCOUNTS[accountId], subscription: subscriptions[accountId] },
      ]),
    ),
    look: `${serverUrl}/v1/accounts/demo_active/entitlements`,
  };
}

/**
 * `pro_monthly`, else the first paid price of the first plan that has one: a free price would charge
 * nothing, and the past-due and incomplete accounts are made by charges that fail.
 */
function demoLookupKey(catalog: Catalog): string | null {
  if (priceByLookupKey(catalog, DEMO_LOOKUP_KEY)) return DEMO_LOOKUP_KEY;
  for (const plan of plansOf(catalog)) {
    const paid = plan.prices.find((price) => price.unitAmount > 0);
    if (paid) return paid.lookupKey;
  }
  return null;
}

async function priceIdOf(stripe: Stripe, lookupKey: string): Promise<string> {
  const [price] = (await stripe.prices.list({ lookup_keys: [lookupKey], active: true })).data;
  if (!price) throw new Error(`Stripe has no active price with the lookup key ${lookupKey} after the push`);
  return price.id;
}
