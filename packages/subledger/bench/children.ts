import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs a bench script in its own Node process with a job (written to `dir` as JSON) and resolves with
 * the JSON line it prints last. Its stderr is passed through, so a failure shows its own message. Children
 * may call `gc()` to start a measurement with nothing left to collect.
 */
export async function runChild<Job, Result>(script: string, job: Job, dir: string): Promise<Result> {
  const jobFile = path.join(dir, `${path.basename(script, '.ts')}-${Date.now()}.json`);
  await writeFile(jobFile, JSON.stringify(job));
  const file = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, ['--expose-gc', file, jobFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const last = output.trim().split('\n').at(-1);
  if (code !== 0 || !last) throw new Error(`${script} exited with ${code}`);
  return JSON.parse(last) as Result;
}
