import { Command, Option } from 'commander';
import { type ApiKeyInfo, createApiKey, listApiKeys, revokeApiKey, type Scope } from '../auth/index.ts';
import { type Config, loadConfig } from '../config/index.ts';
import { type Database, migrate, openDatabase } from '../store/index.ts';
import { defaultPlace } from '../sync/index.ts';
import { notFound } from './failures.ts';

/** `subledger keys create|list|revoke`: the API keys of the HTTP API. */
export function keysCommand(): Command {
  return new Command('keys')
    .description('Create, list and revoke API keys for the HTTP API')
    .addCommand(createCommand())
    .addCommand(listCommand())
    .addCommand(revokeCommand());
}

type CreateOptions = { scope: Scope; label?: string; live?: boolean; test?: boolean };

function createCommand(): Command {
  return new Command('create')
    .description('Create an API key and print it, alone on the last line; it is never shown again')
    .addOption(
      new Option('--scope <scope>', 'what the key may do (each includes the ones before it)')
        .choices(['read', 'write', 'admin'])
        .makeOptionMandatory(),
    )
    .option('--label <text>', 'who or what uses the key, shown by `keys list`')
    .addOption(new Option('--live', 'a key for the live environment').conflicts('test'))
    .addOption(
      new Option('--test', 'a key for the test environment (default: the mode of STRIPE_SECRET_KEY)'),
    )
    .action(async (options: CreateOptions) => {
      const config = loadConfig();
      // The server's environment follows the Stripe key, so by default the new key works on it.
      const livemode = options.live ?? (options.test ? false : defaultPlace(config.stripeSecretKey).livemode);
      const created = await withDatabase(config, (database) =>
        createApiKey(database, { scope: options.scope, livemode, label: options.label }),
      );
      console.log(
        `Created ${created.id}: ${created.scope} scope, ${environment(created.livemode)} environment. Store the key now; it is shown only once:`,
      );
      // Contract: the key alone on the last line, so a script can take it with `tail -n 1`.
      console.log(created.key);
    });
}

function listCommand(): Command {
  return new Command('list')
    .description('List API keys (ids, scopes, environments, last use; never secrets)')
    .option('--json', 'print them as JSON')
    .action(async (options: { json?: boolean }) => {
      const keys = await withDatabase(loadConfig(), listApiKeys);
      if (options.json) console.log(JSON.stringify(keys.map(toJson)));
      else
        console.log(
          keys.length === 0 ? 'No API keys yet: `subledger keys create --scope read`.' : formatKeys(keys),
        );
    });
}

function revokeCommand(): Command {
  return new Command('revoke')
    .description('Revoke an API key; servers refuse it within seconds')
    .argument('<id>', 'the key id (key_…), as `keys list` shows it')
    .action(async (id: string) => {
      const revoked = await withDatabase(loadConfig(), (database) => revokeApiKey(database, id));
      if (!revoked) throw notFound('api_key_not_found', `no API key has the id ${id}`);
      console.log(`Revoked ${id}.`);
    });
}

async function withDatabase<T>(config: Config, work: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(config);
  try {
    await migrate(database);
    return await work(database);
  } finally {
    await database.close();
  }
}

const environment = (livemode: boolean) => (livemode ? 'live' : 'test');

/** The API's snake_case, as the HTTP API would show a key. */
const toJson = (key: ApiKeyInfo) => ({
  id: key.id,
  scope: key.scope,
  livemode: key.livemode,
  label: key.label,
  created_at: key.createdAt.toISOString(),
  last_used_at: key.lastUsedAt?.toISOString() ?? null,
  revoked_at: key.revokedAt?.toISOString() ?? null,
});

function formatKeys(keys: ApiKeyInfo[]): string {
  const rows = keys.map((key) => [
    key.id,
    key.scope,
    environment(key.livemode),
    key.createdAt.toISOString(),
    key.lastUsedAt?.toISOString() ?? 'never',
    key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active',
    key.label ?? '',
  ]);
  const header = ['ID', 'SCOPE', 'ENV', 'CREATED', 'LAST USED', 'STATUS', 'LABEL'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
