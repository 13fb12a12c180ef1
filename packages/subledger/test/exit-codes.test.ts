import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Stripe from 'stripe';
import { CliError, EXIT_CODES, type Failure, toFailure } from '../src/cli/failures.ts';
import { ConfigError } from '../src/config/index.ts';
import { DatabaseUnavailableError } from '../src/store/index.ts';
import { runCli } from './support/run-cli.ts';

// What `subledger` exits with, and the one coded line it says it with. The drift code (2) is proven by
// the reconcile, catalog and credits tests; not found (66) by the inspect and replay tests.

const refused = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

describe('a failure as its code, one line and exit code (pure)', () => {
  const cases: [string, unknown, Failure][] = [
    [
      'a coded CLI error',
      new CliError('event_not_found', 'no event evt_1 in the inbox', EXIT_CODES.notFound),
      { code: 'event_not_found', message: 'no event evt_1 in the inbox', exitCode: 66 },
    ],
    [
      'an invalid environment',
      new ConfigError('PORT must be a port number'),
      { code: 'config_invalid', message: 'PORT must be a port number', exitCode: 78 },
    ],
    [
      "a query drizzle wrapped around the driver's refused connection",
      new Error('Failed query: select 1\nparams: ', { cause: refused('ECONNREFUSED') }),
      {
        code: 'database_unavailable',
        message: 'PostgreSQL cannot be reached (connect ECONNREFUSED 127.0.0.1:1)',
        exitCode: 69,
      },
    ],
    [
      'a connection refused at every address of a host (its own message empty)',
      Object.assign(new AggregateError([refused('ECONNREFUSED')], ''), { code: 'ECONNREFUSED' }),
      {
        code: 'database_unavailable',
        message: 'PostgreSQL cannot be reached (connect ECONNREFUSED 127.0.0.1:1)',
        exitCode: 69,
      },
    ],
    [
      'a server shutting down',
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      {
        code: 'database_unavailable',
        message: 'PostgreSQL cannot be reached (terminating connection due to administrator command)',
        exitCode: 69,
      },
    ],
    [
      'an embedded cluster that would not start',
      new DatabaseUnavailableError('embedded PostgreSQL did not start in .subledger/postgres on port 1'),
      {
        code: 'database_unavailable',
        message:
          'PostgreSQL cannot be reached (embedded PostgreSQL did not start in .subledger/postgres on port 1)',
        exitCode: 69,
      },
    ],
    [
      'Stripe not answering',
      new Stripe.errors.StripeConnectionError({
        message: 'An error occurred with our connection to Stripe.',
      }),
      {
        code: 'stripe_unavailable',
        message: 'Stripe is not answering (StripeConnectionError); try again later',
        exitCode: 69,
      },
    ],
    [
      'Stripe answering 500',
      new Stripe.errors.StripeAPIError({ message: 'oops', statusCode: 500 }),
      {
        code: 'stripe_unavailable',
        message: 'Stripe is not answering (StripeAPIError); try again later',
        exitCode: 69,
      },
    ],
    [
      "Stripe refusing, explained by the error that wraps Stripe's",
      new Error('Stripe refused access to acct_1 in test mode (403)', {
        cause: new Stripe.errors.StripePermissionError({ message: 'no', statusCode: 403 }),
      }),
      { code: 'stripe_refused', message: 'Stripe refused access to acct_1 in test mode (403)', exitCode: 1 },
    ],
    [
      'a statement PostgreSQL refused: a failure of its own, not an outage',
      Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }),
      { code: 'internal_error', message: 'relation "x" does not exist', exitCode: 1 },
    ],
    [
      'anything else, on its first line',
      new Error('first\nsecond'),
      { code: 'internal_error', message: 'first', exitCode: 1 },
    ],
  ];
  for (const [name, error, expected] of cases) it(name, () => assert.deepEqual(toFailure(error), expected));
});

describe('the exit codes of the subledger command', () => {
  /** A database that cannot be reached: a refusal that comes before opening it shows as 64, not 69. */
  const nowhere = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };

  /** The command's exit code and its stderr, which must be one line. */
  const failed = async (args: string[], environment: Record<string, string> = {}) => {
    const result = await runCli(args, environment);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    return [result.code, result.stderr.trim()] as const;
  };

  it('64 for a bad command line, each refusal with its code and where to look', async () => {
    const cases: [string[], string][] = [
      [['replay', '--bogus'], "unknown_option: unknown option '--bogus' (see `subledger replay --help`)"],
      [['frobnicate'], "unknown_command: unknown command 'frobnicate' (see `subledger --help`)"],
      [
        ['inspect'],
        'missing_command: subledger inspect needs a command: account, event (see `subledger inspect --help`)',
      ],
      [
        ['reconcile', '--rps'],
        "option_missing_argument: option '--rps <n>' argument missing (see `subledger reconcile --help`)",
      ],
      [
        ['replay', 'evt_1', 'evt_2'],
        "excess_arguments: too many arguments for 'replay'. Expected 1 argument but got 2. (see `subledger replay --help`)",
      ],
      [
        ['keys', 'create', '--scope', 'read', '--live', '--test'],
        "conflicting_option: option '--live' cannot be used with option '--test' (see `subledger keys create --help`)",
      ],
      [['backfill', '--rps', '0'], 'invalid_argument: --rps must be a positive whole number'],
    ];
    const results = await Promise.all(cases.map(([args]) => failed(args, nowhere)));
    for (const [index, [args, line]] of cases.entries())
      assert.deepEqual(results[index], [64, `subledger: ${line}`], args.join(' '));
  });

  it('64 for a value-taking option given twice, which commander would silently take the last of', async () => {
    const cases: [string[], string][] = [
      [
        ['replay', '--since', '2h', '--since', '3h'],
        "option '--since <time>' is given more than once; give it once (see `subledger replay --help`)",
      ],
      [
        ['keys', 'create', '--scope', 'read', '--scope=admin'],
        "option '--scope <scope>' is given more than once; give it once (see `subledger keys create --help`)",
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => failed(args, nowhere)));
    for (const [index, [args, message]] of cases.entries())
      assert.deepEqual(results[index], [64, `subledger: repeated_option: ${message}`], args.join(' '));
  });

  it('64 for an inspect event id that is no event id, refused as replay refuses it', async () => {
    const expected = [64, 'subledger: invalid_argument: event id must look like evt_…'];
    assert.deepEqual(await failed(['inspect', 'event', 'foo'], nowhere), expected);
    assert.deepEqual(await failed(['replay', 'foo'], nowhere), expected);
  });

  it('69 when PostgreSQL or Stripe cannot be reached', async () => {
    const [database, stripe] = await Promise.all([
      failed(['replay', 'evt_1'], nowhere),
      failed(['catalog', 'diff'], {
        STRIPE_SECRET_KEY: 'sk_test_down',
        STRIPE_API_BASE: 'http://127.0.0.1:1',
      }),
    ]);
    assert.deepEqual(database, [
      69,
      'subledger: database_unavailable: PostgreSQL cannot be reached (connect ECONNREFUSED 127.0.0.1:1)',
    ]);
    assert.deepEqual(stripe, [
      69,
      'subledger: stripe_unavailable: Stripe is not answering (StripeConnectionError); try again later',
    ]);
  });

  it('78 for a configuration to fix', async () => {
    assert.deepEqual(await failed(['migrate'], { PORT: 'eighty' }), [
      78,
      'subledger: config_invalid: PORT must be a port number',
    ]);
    assert.deepEqual(await failed(['catalog', 'diff']), [
      78,
      'subledger: stripe_not_configured: STRIPE_SECRET_KEY is required for catalog diff',
    ]);
  });

  it('lists them at the end of --help', async () => {
    const help = await runCli(['--help'], {});
    assert.equal(help.code, 0, help.stderr);
    assert.match(
      help.stdout,
      /^Exit codes \(an error is one line on stderr: "subledger: <code>: <message>"\):$/m,
    );
    for (const code of [...Object.values(EXIT_CODES), '128+n'])
      assert.match(
        help.stdout,
        new RegExp(`^ {2}${String(code).replace('+', '\\+')} +\\S`, 'm'),
        String(code),
      );
  });
});
