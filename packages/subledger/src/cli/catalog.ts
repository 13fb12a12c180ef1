import { Command } from 'commander';
import type Stripe from 'stripe';
import {
  type Catalog,
  type Change,
  describeChange,
  diffCatalog,
  loadCatalog,
  pushCatalog,
  summarizeChanges,
} from '../catalog/index.ts';
import { loadConfig } from '../config/index.ts';
import { configuredStripe } from './backfill.ts';
import { CliError, EXIT_CODES } from './failures.ts';

type CatalogFlags = { catalog?: string };

/** `subledger catalog push|diff`: the plan catalog in code is the source of truth; Stripe follows it. */
export function catalogCommand(): Command {
  return new Command('catalog')
    .description('Push the plan catalog declared in code to Stripe (products, prices, entitlement features)')
    .addCommand(pushCommand())
    .addCommand(diffCommand());
}

function pushCommand(): Command {
  return withCatalogOption(new Command('push'))
    .description(
      'Create or update the Stripe products, prices and entitlement features of the catalog (needs ' +
        'STRIPE_SECRET_KEY). Idempotent: a second push writes nothing.',
    )
    .option('--dry-run', 'print the changes a push would make, and write nothing')
    .action(async (flags: CatalogFlags & { dryRun?: boolean }) => {
      const { catalog, stripe } = await open(flags, 'catalog push');
      const dryRun = flags.dryRun === true;
      const changes = await pushCatalog(stripe, catalog, {
        dryRun,
        onApplied: (change) => console.log(describeChange(change)),
      });
      if (dryRun) for (const change of changes) console.log(describeChange(change));
      console.log(
        changes.length === 0
          ? 'catalog push: Stripe already holds the catalog'
          : dryRun
            ? `catalog push --dry-run: ${summarizeChanges(changes)}; nothing written`
            : `catalog push: applied ${summarizeChanges(changes)}`,
      );
    });
}

function diffCommand(): Command {
  return withCatalogOption(new Command('diff'))
    .description(
      'Report where Stripe differs from the catalog, e.g. prices edited in the dashboard (needs ' +
        `STRIPE_SECRET_KEY). Exits 0 when Stripe holds the catalog, ${EXIT_CODES.found} when it differs.`,
    )
    .action(async (flags: CatalogFlags) => {
      const { catalog, stripe } = await open(flags, 'catalog diff');
      const changes = await diffCatalog(stripe, catalog);
      for (const change of changes) console.log(describeChange(change));
      console.log(
        changes.length === 0
          ? 'catalog diff: Stripe holds the catalog'
          : `catalog diff: ${summarizeChanges(changes)}`,
      );
      if (changes.length > 0) throw catalogDrift(changes);
    });
}

function withCatalogOption(command: Command): Command {
  return command.option(
    '--catalog <module>',
    'a .ts or .js module whose default export is the catalog (default: SUBLEDGER_CATALOG, else the demo catalog)',
  );
}

async function open(flags: CatalogFlags, job: string): Promise<{ catalog: Catalog; stripe: Stripe }> {
  const config = loadConfig();
  const modulePath = flags.catalog ?? config.catalogModule;
  // A module that cannot be loaded, or whose catalog is invalid, is the app's configuration to fix.
  const catalog = await loadCatalog(modulePath).catch((error: unknown) => {
    throw new CliError('catalog_invalid', (error as Error).message, EXIT_CODES.config);
  });
  return { catalog, stripe: configuredStripe(config, job) };
}

/** Ends `catalog diff` with exit code 2 through main's error handler, as `reconcile` does with drift. */
const catalogDrift = (changes: Change[]) =>
  new CliError(
    'catalog_drift',
    `Stripe differs from the catalog in ${changes.length} place${changes.length === 1 ? '' : 's'}; run \`subledger catalog push\``,
    EXIT_CODES.found,
  );
