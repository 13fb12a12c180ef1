import type { Command, CommanderError } from 'commander';
import { CliError, EXIT_CODES } from './failures.ts';

/**
 * Makes commander's refusals of a command line coded one-line failures, on `command` and every command
 * under it (commander passes these settings on only to commands made with `.command()`, not to those
 * added): it neither prints its own error and help nor exits by itself.
 */
export function strictCommandLine(command: Command): void {
  command.configureOutput({ outputError: () => {}, writeErr: () => {} }).exitOverride((error) => {
    throw usageFailure(command, error);
  });
  for (const subcommand of command.commands) strictCommandLine(subcommand);
}

/** Commander's exit as a usage failure; `--help` and `help` exit 0 with their output, as they are. */
function usageFailure(command: Command, error: CommanderError): Error {
  if (error.exitCode === 0) return error;
  const path = commandPath(command);
  const help = `(see \`${path} --help\`)`;
  // A command of commands run alone: commander would print its help to stderr and exit 1.
  if (error.code === 'commander.help') {
    const names = command.commands.map((subcommand) => subcommand.name()).join(', ');
    return new CliError('missing_command', `${path} needs a command: ${names} ${help}`, EXIT_CODES.usage);
  }
  // `commander.unknownOption` → `unknown_option`: commander's own names, in the codes' case.
  const code = error.code
    .replace(/^commander\./, '')
    .replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  return new CliError(code, `${error.message.replace(/^error: /, '')} ${help}`, EXIT_CODES.usage);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}
