import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { resolveApiKeys } from '../../src/server/api-keys.ts';
import { BearerAuth, SecretSet, parseBearer, sameSecret } from '../../src/server/bearer-auth.ts';

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

describe('one key check for every route', () => {
  const auth = new BearerAuth(['first-key', 'second-key-longer']);
  it('says which key it was, as an id, or how the header failed', () => {
    assert.deepEqual(auth.check('Bearer second-key-longer'), { keyId: 'key-2' });
    assert.deepEqual(auth.check(undefined), { failure: 'missing_api_key' });
    assert.deepEqual(auth.check('  '), { failure: 'missing_api_key' });
    assert.deepEqual(auth.check('Basic first-key'), { failure: 'malformed_authorization' });
    assert.deepEqual(auth.check('Bearer first'), { failure: 'wrong_api_key' });
    assert.deepEqual(auth.keyIds, ['key-1', 'key-2']);
  });
  it("words the 401 for where the key was asked, always the catalog's invalid_api_key", () => {
    const refusal = (realm: 'chat' | 'admin' | 'metrics', header: string | undefined) => {
      try {
        auth.verify(header, realm);
      } catch (error) {
        assert.ok(error instanceof GatewayError);
        return error;
      }
      return assert.fail('refused');
    };
    for (const realm of ['chat', 'admin', 'metrics'] as const) {
      const error = refusal(realm, 'Bearer nope');
      assert.equal(error.status, 401);
      assert.equal(error.code, 'invalid_api_key');
      assert.equal(error.type, 'authentication_error');
    }
    assert.match(refusal('admin', undefined).message, /^Missing admin key/);
    assert.match(refusal('chat', 'Bearer nope').message, /^Incorrect API key provided/);
    assert.equal(refusal('metrics', 'Bearer nope').message, 'Incorrect metrics key provided.');
  });
  it('checks a bare key (console sign-in), a raw token and a path secret the same way', () => {
    assert.equal(auth.accepts('first-key'), true);
    assert.equal(auth.accepts('first-key '), false);
    const secrets = new SecretSet(['a', 'bb', 'a']);
    assert.equal(secrets.indexOf('bb'), 1);
    assert.equal(secrets.indexOf('b'), -1);
    assert.equal(secrets.indexOf('a'), 2, 'every secret is compared: no early exit');
    assert.equal(parseBearer('  bearer tok '), 'tok');
    assert.equal(parseBearer('Bearer a b'), undefined);
    assert.equal(sameSecret('sig', 'sig'), true);
    assert.equal(sameSecret('sig', 'sig2'), false);
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
