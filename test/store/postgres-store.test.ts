/**
 * The record store suite on PostgreSQL, when DATABASE_URL names one (e.g.
 * DATABASE_URL=postgres://postgres@127.0.0.1:5432/test). Every test database is a schema of its
 * own (search_path set through the connection string), dropped at the end, so runs never collide.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres-store.ts';
import { DEFAULTS, recordStoreSuite, turn } from './record-store-suite.ts';

const databaseUrl = process.env['DATABASE_URL'];
const skip = databaseUrl
  ? false
  : 'DATABASE_URL is not set: PostgreSQL record store tests skipped (set e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('PostgreSQL record store', { skip }, () => {
  if (!databaseUrl) return;
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const schemas: string[] = [];
  const run = `records_test_${process.pid}_${Date.now().toString(36)}`;
  let brokenPort = 0;
  let count = 0;
  after(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  function urlFor(schema: string): string {
    const url = new URL(databaseUrl!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return url.href;
  }

  async function newSchema(): Promise<string> {
    const schema = `${run}_${++count}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    schemas.push(schema);
    return schema;
  }

  it('finds a closed port for the broken-database test', async () => {
    brokenPort = await closedPort();
  });

  recordStoreSuite({
    async database() {
      const schema = await newSchema();
      return {
        open: (options = {}) => openPostgresStore(urlFor(schema), { ...DEFAULTS, ...options }),
        migrationVersions: async () =>
          (await admin.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)).rows.map((row) => Number(row.version)),
        exec: async (sql) => {
          await admin.query(`BEGIN; SET LOCAL search_path TO ${schema}; ${sql}; COMMIT`);
        },
      };
    },
    openBroken(options) {
      return openPostgresStore(`postgres://postgres@127.0.0.1:${brokenPort}/test`, { ...options, connectionTimeoutMs: 1000 });
    },
  });

  it('uses real types: timestamptz and json columns', async () => {
    const schema = await newSchema();
    const store = openPostgresStore(urlFor(schema), DEFAULTS);
    store.enqueue(turn({ instanceId: 'types' }));
    await store.close();
    const { rows } = await admin.query(
      `SELECT pg_typeof(started_at)::text AS started, pg_typeof(attempts)::text AS attempts, attempts->0->>'provider' AS provider
       FROM ${schema}.turns`,
    );
    assert.deepEqual(rows, [{ started: 'timestamp with time zone', attempts: 'json', provider: 'openai' }]);
  });

  it('two stores (two gateways) writing turns of one call keep its summary right', async () => {
    const schema = await newSchema();
    const first = openPostgresStore(urlFor(schema), { ...DEFAULTS, batchSize: 5 });
    const second = openPostgresStore(urlFor(schema), { ...DEFAULTS, batchSize: 5 });
    await Promise.all([first.ready(), second.ready()]);
    for (let i = 0; i < 50; i++) (i % 2 === 0 ? first : second).enqueue(turn({ instanceId: 'shared' }));
    await Promise.all([first.flush(), second.flush()]);
    assert.equal((await first.getCall('shared'))?.turns, 50);
    await Promise.all([first.close(), second.close()]);
  });
});
