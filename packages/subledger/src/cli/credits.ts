import { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { poolLabel, VERIFY_LIMIT, type VerifyReport, verifyCredits } from '../credits/index.ts';
import { openDatabase } from '../store/index.ts';
import { CliError, EXIT_CODES } from './failures.ts';

/** How many problems the readable report lists; the rest are counted (`--json` has them all). */
export const PROBLEM_LINES = 50;

/** `subledger credits verify`: the credit ledger's invariants, checked over every pool. */
export function creditsCommand(): Command {
  return new Command('credits').description('Check the credit ledger').addCommand(verifyCommand());
}

function verifyCommand(): Command {
  return new Command('verify')
    .description(
      "Check every pool's ledger in one snapshot: each lot's remainder is the sum of its entries and within " +
        'its grant, each source grants once, holds agree with their entries. Read-only. Exits 0 when the ' +
        `ledger is sound, ${EXIT_CODES.found} when anything is off, ${EXIT_CODES.unavailable} when the ` +
        'database cannot be read.',
    )
    .option('--json', 'print the report as JSON on stdout')
    .action(async (options: { json?: boolean }) => {
      const report = await readReport();
      console.log(options.json ? JSON.stringify(report, null, 2) : verifyReportLines(report).join('\n'));
      if (report.problems.length > 0) throw ledgerProblems(report.problems.length);
    });
}

async function readReport(): Promise<VerifyReport> {
  const database = await openDatabase(loadConfig());
  try {
    return await verifyCredits(database.pool);
  } catch (error) {
    throw new CliError(
      'database_unavailable',
      `credits verify could not read the database: ${reasonOf(error)}`,
      EXIT_CODES.unavailable,
    );
  } finally {
    await database.close();
  }
}

// A refused connection is an AggregateError (one per address tried) whose own message is empty.
function reasonOf(error: unknown): string {
  const { code, message, errors } = error as { code?: string; message?: string; errors?: unknown[] };
  if (code === '42P01') return `${message}; run \`subledger migrate\` first`;
  return message || (errors?.[0] as Error | undefined)?.message || code || String(error);
}

/** The readable report: what was checked, then one line per problem, the first PROBLEM_LINES of them. */
export function verifyReportLines(report: VerifyReport, most = PROBLEM_LINES): string[] {
  const found = report.problems.length;
  const lines = [
    `credits verify: ${report.pools} pools, ${report.lots} lots, ${report.entries} entries, ` +
      `${report.holds} open holds checked; ${found === 0 ? 'no problems' : `${found} problem${found === 1 ? '' : 's'}`}`,
  ];
  for (const problem of report.problems.slice(0, most))
    lines.push(`${problem.code} ${poolLabel(problem.pool)} ${problem.subject}: ${problem.message}`);
  if (found > most) lines.push(`… and ${found - most} more`);
  if (report.truncated)
    lines.push(`(some checks stopped at their first ${VERIFY_LIMIT} problems: fix these and run again)`);
  return lines;
}

/** Ends the command with exit code 2 through main's error handler, as drift does, with one line on stderr. */
const ledgerProblems = (found: number) =>
  new CliError(
    'ledger_problems',
    `the credit ledger has ${found} problem${found === 1 ? '' : 's'}`,
    EXIT_CODES.found,
  );
