/**
 * Cross-process staleness: this process (A) records a use of `api_calls` with `subledger.usage.record`;
 * process B (`access-watcher.ts`), with the account warm in its cache, checks it on every event-loop
 * turn until its answer counts the use. The figure is B's answer minus A's commit (the moment `record`
 * resolved in A), both on `performance.timeOrigin + performance.now()`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../test/support/seeded-random.ts';
import type { Profile } from './access-data.ts';
import { openSubledger, sharedClock } from './access-instance.ts';
import type { FromWatcher, ToWatcher, WatcherJob } from './access-watcher.ts';
import { type Summary, summarize } from './stats.ts';

export type StalenessSetup = {
  databaseUrl: string;
  dir: string;
  profiles: readonly Profile[];
  rounds: number;
};

export type StalenessResult = {
  rounds: number;
  accounts: number;
  /** From A's commit (its `record` resolved) to B's first answer that counts the use. */
  visibleMs: Summary;
  /** From the moment A called `record`: an upper bound that needs no agreement on when it committed. */
  fromCallMs: Summary;
  recordMs: Summary;
  /** Rounds whose use B saw counted as expected (one more use); the others are listed as wrong. */
  counted: number;
  /** B's clock minus A's, estimated from IPC pings as `pong - (sent + received) / 2`: median and spread. */
  clockOffsetMs: Summary;
  pingRoundTripMs: Summary;
};

const WATCHED = 20;
const PINGS = 50;

export async function measureStaleness(setup: StalenessSetup): Promise<StalenessResult> {
  const watched = setup.profiles
    .filter(
      (profile) => profile.kind === 'active' && profile.plan !== 'enterprise' && sumOf(profile.uses) < 400,
    )
    .slice(0, WATCHED);
  const watcher = await startWatcher(
    { databaseUrl: setup.databaseUrl, accounts: setup.profiles.length },
    setup.dir,
  );
  const subledger = await openSubledger(setup.databaseUrl);
  try {
    const clock = await calibrate(watcher);
    const random = seededRandom(5);
    const visible: number[] = [];
    const fromCall: number[] = [];
    const record: number[] = [];
    let counted = 0;
    for (let round = 0; round < setup.rounds; round++) {
      const profile = watched[round % watched.length] as Profile;
      const armed = watcher.next('armed');
      watcher.tell({ type: 'watch', accountId: profile.accountId });
      const { used } = await armed;
      const seen = watcher.next('seen');
      const calledAt = sharedClock();
      await subledger.usage.record({
        accountId: profile.accountId,
        featureId: 'api_calls',
        quantity: 1,
        idempotencyKey: `staleness-${round}`,
      });
      const committedAt = sharedClock();
      const answer = await seen;
      visible.push(answer.at - committedAt);
      fromCall.push(answer.at - calledAt);
      record.push(committedAt - calledAt);
      if (answer.used === (used ?? 0) + 1) counted++;
      // A pause of random length, so that rounds do not fall into step with any timer of either process.
      await new Promise((resolve) => setTimeout(resolve, 5 + random() * 15));
    }
    return {
      rounds: setup.rounds,
      accounts: watched.length,
      visibleMs: summarize(visible),
      fromCallMs: summarize(fromCall),
      recordMs: summarize(record),
      counted,
      ...clock,
    };
  } finally {
    await subledger.close();
    await watcher.stop();
  }
}

const sumOf = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0);

async function calibrate(watcher: Watcher) {
  const offsets: number[] = [];
  const roundTrips: number[] = [];
  for (let ping = 0; ping < PINGS; ping++) {
    const pong = watcher.next('pong');
    const sentAt = sharedClock();
    watcher.tell({ type: 'ping' });
    const { at } = await pong;
    const receivedAt = sharedClock();
    offsets.push(at - (sentAt + receivedAt) / 2);
    roundTrips.push(receivedAt - sentAt);
  }
  return { clockOffsetMs: summarize(offsets), pingRoundTripMs: summarize(roundTrips) };
}

type Watcher = Awaited<ReturnType<typeof startWatcher>>;

async function startWatcher(job: WatcherJob, dir: string) {
  const jobFile = path.join(dir, `access-watcher-${Date.now()}.json`);
  await writeFile(jobFile, JSON.stringify(job));
  const child = fork(fileURLToPath(new URL('./access-watcher.ts', import.meta.url)), [jobFile], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const mailbox = mailboxOf(child, exited);
  await mailbox.next('ready');
  return {
    ...mailbox,
    tell: (message: ToWatcher) => child.send(message),
    stop: async () => {
      child.send({ type: 'stop' } satisfies ToWatcher);
      await exited;
    },
  };
}

/**
 * The watcher's messages by type, kept until asked for: B may answer before A has started waiting
 * (its `seen` can come before A's own `record` has resolved).
 */
function mailboxOf(child: ChildProcess, exited: Promise<number | null>) {
  type Waiter = {
    type: FromWatcher['type'];
    resolve: (message: FromWatcher) => void;
    reject: (error: Error) => void;
  };
  const kept: FromWatcher[] = [];
  const waiting: Waiter[] = [];
  let failure: Error | null = null;
  child.on('message', (message: FromWatcher) => {
    const index = waiting.findIndex((waiter) => waiter.type === message.type);
    if (index < 0) kept.push(message);
    else waiting.splice(index, 1)[0]?.resolve(message);
  });
  void exited.then((code) => {
    failure = new Error(`access-watcher.ts exited with ${code}`);
    for (const waiter of waiting.splice(0)) waiter.reject(failure);
  });
  return {
    next<T extends FromWatcher['type']>(type: T): Promise<Extract<FromWatcher, { type: T }>> {
      const index = kept.findIndex((message) => message.type === type);
      if (index >= 0) return Promise.resolve(kept.splice(index, 1)[0] as Extract<FromWatcher, { type: T }>);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) =>
        waiting.push({ type, resolve: resolve as (message: FromWatcher) => void, reject }),
      );
    },
  };
}
