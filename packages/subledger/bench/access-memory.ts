/**
 * What a warm cache weighs, in a fresh process (`node --expose-gc access-memory.ts <job.json>`):
 * Subledger opened and collected, then every account loaded into its access cache (`inFlight` cold
 * misses at a time, which the service reads in one statement per event-loop turn), collected again.
 * Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { collect, openSubledger, warmAccounts } from './access-instance.ts';

export type MemoryJob = { databaseUrl: string; accounts: number; inFlight: number };

type Usage = { heapUsed: number; rss: number; external: number };

export type MemoryResult = {
  accounts: number;
  inFlight: number;
  warmMs: number;
  cached: number;
  before: Usage;
  after: Usage;
};

function usage(): Usage {
  collect();
  const { heapUsed, rss, external } = process.memoryUsage();
  return { heapUsed, rss, external };
}

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as MemoryJob;
const subledger = await openSubledger(job.databaseUrl);
// One account first, so that the code of a load and its pool's connections are not counted as cache.
// The ids are made as they are asked, as an app's requests bring them: their strings count as cache.
await warmAccounts(subledger, 1);
const before = usage();
const warmMs = await warmAccounts(subledger, job.accounts, job.inFlight);
const after = usage();
const result: MemoryResult = {
  accounts: job.accounts,
  inFlight: job.inFlight,
  warmMs,
  cached: subledger.access.cachedAccounts(),
  before,
  after,
};
await subledger.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
