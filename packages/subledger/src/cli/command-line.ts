import type { Command, CommanderError } from 'commander';
import { CliError, EXIT_CODES } from './failures.ts';

/**
 * Makes commander's refusals of a command line coded one-line failures, on `command` and every command
 * under it (commander passes these settings on only to commands made with `.command()`, not to those
 * added): it neither prints its own error and help nor exits by itself, and a value-taking option given
 * twice is refused instead of keeping its last value.
 */
export function strictCommandLine(command: Command): void {
  command.configureOutput({ outputError: () => {}, writeErr: () => {} }).exitOverride((error) => {
    throw usageFailure(command, error);
  });
  refuseRepeatedOptions(command);
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

/**
 * Commander keeps the last value of an option given twice (`replay --since 2h --since 3h` read 3h),
 * silently: the command would run on a value the operator may not have meant. A switch given twice says
 * the same thing twice, and a variadic option collects its values, so neither is refused.
 */
function refuseRepeatedOptions(command: Command): void {
  for (const option of command.options) {
    if (option.variadic || !(option.required || option.optional)) continue;
    let given = false;
    command.on(`option:${option.name()}`, () => {
      if (given)
        command.error(`option '${option.flags}' is given more than once; give it once`, {
          code: 'commander.repeatedOption',
        });
      given = true;
    });
  }
}
