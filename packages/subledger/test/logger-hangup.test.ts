import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const LOGGING = fileURLToPath(new URL('./support/hangup-logger.ts', import.meta.url));

/** The lines the program noted, once `done` holds (10 s at most). */
async function marksWhen(file: string, done: (marks: string[]) => boolean): Promise<string[]> {
  for (let waited = 0; ; waited += 50) {
    const marks = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    if (done(marks) || waited > 10_000) return marks;
    await sleep(50);
  }
}

test('a process whose terminal closes logs its way through the shutdown its SIGHUP starts', async () => {
  const folder = await mkdtemp(path.join(tmpdir(), 'subledger-hangup-'));
  const marks = path.join(folder, 'marks');
  try {
    // `script` (util-linux, in Debian's essential bsdutils) runs it on a pseudo-terminal; killing it
    // closes the terminal, so the program gets SIGHUP and its writes to the terminal fail with EIO.
    const terminal = spawn('script', ['-qfc', `"${process.execPath}" "${LOGGING}"`, '/dev/null'], {
      env: { ...process.env, HANGUP_MARKS: marks },
      stdio: 'ignore',
    });
    assert.deepEqual(await marksWhen(marks, (lines) => lines.includes('ready')), ['ready']);
    terminal.kill('SIGKILL');
    assert.deepEqual(await marksWhen(marks, (lines) => lines.length > 1), ['ready', 'stopped']);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
