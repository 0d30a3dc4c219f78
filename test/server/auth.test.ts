import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { resolveApiKeys } from '../../src/server/api-keys.ts';
import { BearerAuth } from '../../src/server/bearer-auth.ts';

describe('BearerAuth', () => {
  const auth = new BearerAuth(['first-key', 'second-key-longer']);
  it('accepts any configured key, case-insensitive scheme', () => {
    auth.verify('Bearer first-key');
    auth.verify('bearer second-key-longer');
  });
  it('refuses missing, wrong, prefix and malformed keys with a 401', () => {
    for (const header of [undefined, '', 'Bearer first', 'Bearer first-key-x', 'first-key', 'Basic first-key']) {
      assert.throws(
        () => auth.verify(header),
        (error: unknown) => error instanceof GatewayError && error.status === 401,
      );
    }
  });
});

describe('resolveApiKeys', () => {
  it('uses configured keys, ignoring blanks', () => {
    assert.deepEqual(resolveApiKeys([' a ', '', 'b'], '/nonexistent'), { keys: ['a', 'b'] });
  });
  it('generates a key once, keeps it private in the data folder and reuses it', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'vlg-keys-')), 'nested');
    const first = resolveApiKeys([''], dir);
    assert.equal(first.generated?.createdNow, true);
    assert.match(first.keys[0]!, /^vlg-[A-Za-z0-9_-]{32}$/);
    assert.equal(statSync(join(dir, 'api-key')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'api-key'), 'utf8').trim(), first.keys[0]);
    const second = resolveApiKeys([], dir);
    assert.equal(second.generated?.createdNow, false);
    assert.deepEqual(second.keys, first.keys);
  });
});
