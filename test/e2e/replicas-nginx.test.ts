import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import { startMockUpstream, textEvents, type MockUpstream, type RecordedRequest } from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, type ParsedStream } from '../support/gateway-harness.ts';
import { deleteKeys, redisSkipReason, testRedis, TEST_REDIS_URL, uniquePrefix } from '../support/redis.ts';
import {
  clusterDir,
  freePort,
  killReplica,
  nginxSkipReason,
  startNginx,
  startReplica,
  type Nginx,
  type Replica,
} from '../support/replica-cluster.ts';

/**
 * Replicas as deployed: `voice-llm-gateway serve` processes sharing call state on the real Redis,
 * behind the real nginx with the project's deploy/nginx/proxy.conf (round-robin, keep-alive).
 * Records: one PostgreSQL database when DATABASE_URL is set (as the deployment guide says), else
 * each replica's SQLite file, read from the file itself (a killed replica's too).
 */

const skip = nginxSkipReason() || (await redisSkipReason());
const DATABASE_URL = process.env.DATABASE_URL;

const KEY = 'replicas-key-0123456789';
const ADMIN_KEY = 'replicas-admin-key-0123456789';
const LONG_ANSWER = 'A long answer that the caller will talk over long before it is finished, word after word, on and on.';
/** How long a finished turn's record may wait in the replica's queue (records.flushIntervalMs). */
const FLUSH_MS = 100;
/** Call ids of this run: a shared PostgreSQL database keeps the records of earlier runs. */
const RUN = randomUUID().slice(0, 8);

type Message = { role: string; content?: unknown };

function replicaConfig(upstream: MockUpstream, prefix: string): Record<string, unknown> {
  return {
    server: { apiKeys: [KEY], logLevel: 'warn' },
    admin: { apiKeys: [ADMIN_KEY] },
    providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-x' } },
    agents: {
      remembering: { provider: 'mock', model: 'm', memory: { mode: 'full' } },
      plain: { provider: 'mock', model: 'm' },
    },
    records: { flushIntervalMs: FLUSH_MS },
    // A generous budget: on a loaded machine a short one passes by and the turn (rightly) goes local.
    state: { store: 'redis', url: TEST_REDIS_URL, keyPrefix: prefix, timeoutMs: 1000 },
  };
}

function sentTo(request: RecordedRequest): string[] {
  return (request.body as { messages: Message[] }).messages.map((m) => `${m.role}:${String(m.content)}`);
}

interface OpenTurn {
  status: number;
  /** x-vlg-replica: `<host>:<pid>` of the replica that answered. */
  replica: string;
  /** The whole stream; a cut one resolves with sawDone false. */
  stream: Promise<ParsedStream>;
}

type Turn = Omit<OpenTurn, 'stream'> & { stream: ParsedStream };

const CUT: ParsedStream = { chunks: [], sawDone: false, afterDone: [], text: '' };

/** Sends one turn of a call through `url`; resolves once its headers arrived. */
async function openTurn(url: string, body: Record<string, unknown>): Promise<OpenTurn> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
  });
  const replica = response.headers.get('x-vlg-replica') ?? '';
  if (response.status !== 200) {
    return { status: response.status, replica, stream: response.text().then((text) => ({ ...CUT, text })) };
  }
  return { status: 200, replica, stream: readStream(response).catch(() => CUT) };
}

async function sendTurn(url: string, body: Record<string, unknown>): Promise<Turn> {
  const open = await openTurn(url, body);
  return { ...open, stream: await open.stream };
}

/**
 * A turn as the IMS workflow sends it in a long call: a window of the newest messages (here the
 * previous answer, when given, and the caller's words), which call memory completes.
 */
const turnBody = (agent: string, instanceId: string, sentenceId: number, text: string, previousAnswer?: string) =>
  imsRequest(agent, text, {
    extendData: { instanceId, sentenceId },
    messages: [...(previousAnswer === undefined ? [] : [{ role: 'assistant', content: previousAnswer }]), { role: 'user', content: text }],
  });

const pidOf = (replica: string): number => Number(replica.split(':').at(-1));

async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

interface TurnRow {
  sentenceId: number;
  outcome: string;
  cancellation: string | null;
  answerText: string;
}

/** The call's turn records: from the shared PostgreSQL through a live replica's admin API, else from every replica's SQLite file. */
async function recordsOf(instanceId: string, replicas: Replica[], live: Replica): Promise<TurnRow[]> {
  if (DATABASE_URL) {
    const response = await fetch(`${live.url}/admin/calls/${instanceId}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    if (response.status === 404) return [];
    const call = (await response.json()) as { turnRecords: Array<TurnRow> };
    return call.turnRecords.map(({ sentenceId, outcome, cancellation, answerText }) => ({ sentenceId, outcome, cancellation, answerText }));
  }
  const rows: TurnRow[] = [];
  for (const file of new Set(replicas.map((r) => r.recordsFile))) {
    if (!existsSync(file)) continue;
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const found = db
        .prepare(
          'SELECT sentence_id AS sentenceId, outcome, cancellation, answer_text AS answerText FROM turns WHERE instance_id = ? ORDER BY started_at',
        )
        .all(instanceId) as unknown as TurnRow[];
      rows.push(...found.map((row) => ({ ...row, sentenceId: Number(row.sentenceId) })));
    } finally {
      db.close();
    }
  }
  return rows.sort((x, y) => x.sentenceId - y.sentenceId);
}

interface Cluster {
  dir: string;
  prefix: string;
  upstream: MockUpstream;
  redis: Redis;
  ports: number[];
  replicas: Replica[];
  nginx: Nginx;
  /** Starts (again) replica `index` on its port, with its data folder. */
  start(index: number): Promise<Replica>;
  stop(): Promise<void>;
}

async function startCluster(count: number, name: string): Promise<Cluster> {
  const { dir, remove } = clusterDir();
  const prefix = uniquePrefix(name);
  const upstream = await startMockUpstream();
  const redis = testRedis();
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const replicas: Replica[] = [];
  const env: Record<string, string> = DATABASE_URL ? { DATABASE_URL } : {};
  const start = async (index: number): Promise<Replica> => {
    const replica = await startReplica(dir, `replica-${index}`, ports[index]!, replicaConfig(upstream, prefix), env);
    replicas.push(replica);
    return replica;
  };
  const stop = async (): Promise<void> => {
    await nginx?.stop();
    await Promise.all(replicas.map((replica) => killReplica(replica)));
    await upstream.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    remove();
  };
  let nginx: Nginx | undefined;
  try {
    for (let i = 0; i < count; i++) await start(i);
    nginx = await startNginx(dir, ports);
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, prefix, upstream, redis, ports, replicas, nginx, start, stop };
}

/** The replica process whose pid an x-vlg-replica header names. */
const replicaNamed = (cluster: Cluster, replica: string): Replica => {
  const found = cluster.replicas.find((r) => r.child.pid === pidOf(replica) && r.child.exitCode === null);
  assert.ok(found, `no running replica has the pid of ${replica}`);
  return found;
};

describe('replicas behind nginx (deploy/nginx/proxy.conf), sharing call state on Redis', { skip, timeout: 180_000 }, () => {
  describe('a call whose turns alternate between two replicas', () => {
    let cluster: Cluster;
    before(async () => (cluster = await startCluster(2, 'nginx-alternate')));
    after(() => cluster?.stop());

    it('keeps its memory, and a barge-in on one replica cancels the answer streaming on the other', async () => {
      const { upstream, nginx, redis, prefix } = cluster;
      upstream.respondWith((request) =>
        JSON.stringify(request.body).includes('long story')
          ? { events: textEvents(LONG_ANSWER), eventIntervalMs: 40 }
          : { events: textEvents('Noted.') },
      );
      const call = `nginx-alternate-${RUN}`;
      const first = await sendTurn(nginx.url, turnBody('remembering', call, 1, 'my name is Li'));
      assert.equal(first.status, 200);
      assert.equal(first.stream.text, 'Noted.');
      // END is written after the stream closed; a caller's next turn comes seconds later.
      await eventually(
        'the first turn is in the call memory',
        async () => (await redis.exists(`${prefix}memory:{key-1:instance:${call}}`)) === 1,
      );

      const asked = upstream.requests.length;
      const second = sendTurn(nginx.url, turnBody('remembering', call, 2, 'tell me a long story', 'Noted.'));
      await upstream.waitForRequests(asked + 1, 10_000);
      assert.ok(
        sentTo(upstream.requests[asked]!).includes('user:my name is Li'),
        'the second turn reached the model with the first turn in memory',
      );
      assert.ok(sentTo(upstream.requests[asked]!).includes('assistant:Noted.'));
      await sleep(200); // a few words of the long answer are out

      const third = await sendTurn(nginx.url, turnBody('remembering', call, 3, 'stop, what is my name?'));
      assert.equal(third.status, 200);
      assert.equal(third.stream.text, 'Noted.');
      const cancelled = await upstream.waitForAbort(asked, 10_000);
      assert.equal(cancelled.aborted, true, "the long answer's upstream request was aborted");
      const barged = await second;
      assert.equal(barged.status, 200);
      assert.deepEqual(
        checkStreamRules(barged.stream.chunks, barged.stream.sawDone),
        [],
        'the superseded stream ends well-formed through nginx',
      );
      assert.ok(barged.stream.text.length < LONG_ANSWER.length, 'the long answer was cut');

      assert.notEqual(barged.replica, first.replica, 'round-robin: the second turn went to the other replica');
      assert.notEqual(third.replica, barged.replica, 'the barge-in reached the other replica than the answer it cut');

      const streaming = replicaNamed(cluster, barged.replica);
      await eventually('the cut turn is on record as superseded', async () =>
        (await recordsOf(call, cluster.replicas, streaming)).some((r) => r.sentenceId === 2 && r.outcome === 'superseded'),
      );
      const records = await recordsOf(call, cluster.replicas, streaming);
      assert.deepEqual(
        records.map((r) => [r.sentenceId, r.outcome, r.cancellation]),
        [
          [1, 'ok', null],
          [2, 'superseded', 'superseded'],
          [3, 'ok', null],
        ],
      );
    });
  });

  describe('kill -9 of a replica in the middle of a call', () => {
    let cluster: Cluster;
    before(async () => (cluster = await startCluster(2, 'nginx-kill')));
    after(() => cluster?.stop());

    it('loses no record of a finished turn, and the other replica answers the next turns with the call memory', async () => {
      const { upstream, nginx } = cluster;
      upstream.respondWith((request) => {
        const text = JSON.stringify(request.body);
        if (text.includes('long story')) return { events: textEvents(LONG_ANSWER), eventIntervalMs: 100 };
        return { events: textEvents(text.includes('blue') ? 'Blue, noted.' : 'Li, noted.') };
      });
      const call = `nginx-kill-${RUN}`;
      const first = await sendTurn(nginx.url, turnBody('remembering', call, 1, 'my name is Li'));
      const second = await sendTurn(nginx.url, turnBody('remembering', call, 2, 'my favourite colour is blue', 'Li, noted.'));
      assert.deepEqual([first.status, second.status], [200, 200]);
      assert.notEqual(first.replica, second.replica, 'round-robin: the two turns went to different replicas');
      // Records are written in batches, at the latest records.flushIntervalMs after the turn ended:
      // a turn ended for longer than that is a finished turn. Voice turns are seconds apart.
      await sleep(FLUSH_MS * 10);

      const third = await openTurn(nginx.url, turnBody('remembering', call, 3, 'tell me a long story'));
      assert.equal(third.status, 200);
      await sleep(300); // mid-answer
      const victim = replicaNamed(cluster, third.replica);
      const survivor = cluster.replicas.find((r) => r !== victim)!;
      await killReplica(victim);
      assert.equal((await third.stream).sawDone, false, 'the answer streaming on the killed replica was cut');

      const records = await recordsOf(call, cluster.replicas, survivor);
      assert.deepEqual(
        records.filter((r) => r.sentenceId <= 2).map((r) => [r.sentenceId, r.outcome, r.answerText]),
        [
          [1, 'ok', 'Li, noted.'],
          [2, 'ok', 'Blue, noted.'],
        ],
        "both finished turns are on record, the killed replica's included",
      );

      // Two more turns: round-robin sends one of them to the dead replica; nginx's connection is
      // refused before anything was sent, so it goes to the survivor (proxy_next_upstream error).
      let previousAnswer = second.stream.text;
      for (const sentenceId of [4, 5]) {
        const asked = upstream.requests.length;
        const next = await sendTurn(nginx.url, turnBody('remembering', call, sentenceId, 'what do you know about me?', previousAnswer));
        previousAnswer = next.stream.text;
        assert.equal(next.status, 200, `turn ${sentenceId}: ${next.stream.text}`);
        assert.equal(pidOf(next.replica), survivor.child.pid, `turn ${sentenceId} was answered by the survivor`);
        assert.ok(next.stream.sawDone);
        const sent = sentTo(upstream.requests[asked]!);
        for (const said of ['user:my name is Li', 'assistant:Li, noted.', 'user:my favourite colour is blue', 'assistant:Blue, noted.']) {
          assert.ok(sent.includes(said), `turn ${sentenceId} reached the model with "${said}" in memory: ${JSON.stringify(sent)}`);
        }
      }
    });
  });

  describe('a rolling restart under steady load', () => {
    let cluster: Cluster;
    before(async () => (cluster = await startCluster(2, 'nginx-rolling')));
    after(() => cluster?.stop());

    it('SIGTERM to one replica at a time, each replaced on its port, drops no turn', async () => {
      const { upstream, nginx } = cluster;
      const answer = 'One two three four five six seven eight nine ten eleven twelve.';
      // About 300 ms of answer: every SIGTERM finds turns in flight.
      upstream.respondWith({ events: textEvents(answer, { chunkSize: 6 }), eventIntervalMs: 25 });
      const results: Turn[] = [];
      let running = true;
      const caller = async (n: number): Promise<void> => {
        for (let sentenceId = 1; running; sentenceId++) {
          results.push(
            await sendTurn(nginx.url, turnBody('plain', `rolling-${RUN}-${n}`, sentenceId, `turn ${sentenceId}`)).catch(
              (error: unknown) => ({ status: 0, replica: String(error), stream: CUT }),
            ),
          );
          await sleep(20);
        }
      };
      const callers = Array.from({ length: 4 }, (_, n) => caller(n));
      /** Waits until `replica` answered a few turns of the load: nginx sends to it again. */
      const serving = (replica: Replica) =>
        eventually(
          `replica on port ${replica.port} answers turns`,
          () => results.filter((r) => pidOf(r.replica) === replica.child.pid).length >= 3,
          30_000,
        );
      try {
        for (const replica of cluster.replicas) await serving(replica);
        for (const index of [0, 1]) {
          const old = cluster.replicas[index]!;
          old.child.kill('SIGTERM');
          assert.equal(await old.exit, 0, `replica ${index} drained and exited 0`);
          const replacement = await cluster.start(index);
          cluster.replicas.splice(index, 1, cluster.replicas.pop()!);
          await serving(replacement);
        }
      } finally {
        running = false;
        await Promise.all(callers);
      }
      const failed = results.filter((r) => r.status !== 200 || !r.stream.sawDone || r.stream.text !== answer);
      assert.deepEqual(
        failed.map((r) => `${r.status} ${r.replica}: ${r.stream.text.slice(0, 200)}`),
        [],
        `no turn failed among ${results.length} (nginx error log: ${nginx.errorLog().slice(-2000)})`,
      );
      const pids = new Set(results.map((r) => pidOf(r.replica)));
      assert.equal(pids.size, 4, 'the two replicas and their two replacements answered');
    });
  });
});
