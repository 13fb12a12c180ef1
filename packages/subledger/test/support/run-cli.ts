import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Stack } from './stack.ts';

const BIN = fileURLToPath(new URL('../../bin/subledger.js', import.meta.url));

export type CliResult = { code: number | null; stdout: string; stderr: string };

export type CliOptions = {
  /**
   * Close the pipe of stderr once its first chunk is read, as `2>&1 | head -1` does: the command's later
   * writes there fail with EPIPE.
   */
  closeStderrAfterFirstRead?: boolean;
};

/**
 * Runs `subledger …` in a child process with only the given environment (plus PATH), as an operator
 * would. Asynchronous, so the emulator and server running in the test process keep answering it.
 */
export async function runCli(
  args: string[],
  environment: Record<string, string>,
  options: CliOptions = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (options.closeStderrAfterFirstRead) child.stderr.destroy();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** The environment of a command on the stack's database and emulator. */
const stackEnvironment = (stack: Stack) => ({
  DATABASE_URL: stack.database.url,
  STRIPE_API_BASE: stack.emulator.url,
  STRIPE_SECRET_KEY: 'sk_test_cli',
});

/** `subledger …` in a subprocess, configured for the stack's database and emulator, then `environment`. */
export const stackCli = (
  stack: Stack,
  args: string[],
  environment: Record<string, string> = {},
  options: CliOptions = {},
) => runCli(args, { ...stackEnvironment(stack), ...environment }, options);

/**
 * Runs `subledger …` on the stack in a pseudo-terminal (`script`, from util-linux) and types Ctrl-C
 * there once its output matches `interruptWhen`: the terminal sends SIGINT, as at a keyboard. Resolves
 * with its exit code and everything it wrote to the terminal.
 */
export async function interruptOnTerminal(
  stack: Stack,
  args: string[],
  interruptWhen: (output: string) => boolean,
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, BIN, ...args].map((word) => `'${word}'`).join(' ');
  // -e: script exits with the command's code.
  const terminal = spawn('script', ['-qefc', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...stackEnvironment(stack) },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let output = '';
  let interrupted = false;
  terminal.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (interrupted || !interruptWhen(output)) return;
    interrupted = true;
    terminal.stdin.write('\x03');
  });
  const [code] = (await once(terminal, 'close')) as [number | null];
  return { code, output };
}
