import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway } from '../support/gateway-harness.ts';

const mode = (path: string) => statSync(path).mode & 0o777;
const AGENT = { providers: { s: { type: 'scripted' } }, agents: { agent: { provider: 's' } } };

describe('data folder permissions', { skip: process.platform === 'win32' && 'POSIX modes' }, () => {
  it('creates the data folder 0700 and the generated keys and the SQLite file 0600', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'vlg-modes-')), 'data');
    const gateway = await startTestGateway({ ...AGENT, server: { dataDir, apiKeys: [] }, admin: { apiKeys: [] } });
    try {
      // The records worker opens (creates) the database on first use.
      const calls = await fetch(`${gateway.url}/admin/calls`, { headers: { authorization: `Bearer ${gateway.adminKeys.keys[0]}` } });
      assert.equal(calls.status, 200);
      for (let i = 0; i < 100 && !existsSync(join(dataDir, 'records.db')); i++) await sleep(20);
      assert.equal(mode(dataDir), 0o700);
      for (const file of ['api-key', 'admin-key', 'records.db']) assert.equal(mode(join(dataDir, file)), 0o600, file);
    } finally {
      await gateway.close();
    }
  });

  it('fixes the modes an older version left world-readable', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'vlg-modes-')), 'data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    // Keys and an (empty) database as an older version left them under umask 022.
    for (const file of ['api-key', 'admin-key', 'records.db']) {
      writeFileSync(join(dataDir, file), file === 'records.db' ? '' : `vlg-existing-${file}\n`);
      chmodSync(join(dataDir, file), 0o644);
    }

    const gateway = await startTestGateway({ ...AGENT, server: { dataDir, apiKeys: [] }, admin: { apiKeys: [] } });
    try {
      assert.equal(mode(dataDir), 0o700);
      for (const file of ['api-key', 'admin-key', 'records.db']) assert.equal(mode(join(dataDir, file)), 0o600, file);
      assert.deepEqual(gateway.apiKeys.keys, ['vlg-existing-api-key'], 'the existing key is kept');
    } finally {
      await gateway.close();
    }
  });
});
