import { Command } from 'commander';
import { backfillCommand } from './backfill.ts';
import { catalogCommand } from './catalog.ts';
import { creditsCommand } from './credits.ts';
import { emulatorCommand } from './emulator.ts';
import { inspectCommand } from './inspect.ts';
import { keysCommand } from './keys.ts';
import { migrateCommand } from './migrate.ts';
import { reconcileCommand } from './reconcile.ts';
import { replayCommand } from './replay.ts';
import { startCommand } from './start.ts';

/** `subledger`: one binary for every operation; each command lives in its own module. */
const program = new Command()
  .name('subledger')
  .description('Subledger: Stripe billing state, correct and instantly answerable, on PostgreSQL')
  .showHelpAfterError()
  .exitOverride();

program.addCommand(startCommand());
program.addCommand(migrateCommand());
program.addCommand(emulatorCommand());
program.addCommand(replayCommand());
program.addCommand(inspectCommand());
program.addCommand(backfillCommand());
program.addCommand(reconcileCommand());
program.addCommand(catalogCommand());
program.addCommand(keysCommand());
program.addCommand(creditsCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { code?: string }).code ?? '';
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
    process.exit(0);
  if (!code.startsWith('commander.'))
    console.error(`subledger: ${error instanceof Error ? error.message : String(error)}`);
  process.exit((error as { exitCode?: number }).exitCode ?? 1);
}
