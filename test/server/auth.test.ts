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

describe('SecretSet compares without a hash, in constant time', () => {
  const keys = ['vlg-first-key-0123456789', 'vlg-second-key-abcdefghijklmnopqrstuvwxyz', 'k3'];
  const secrets = new SecretSet(keys);
  it('finds the right key of several', () => {
    keys.forEach((key, index) => assert.equal(secrets.indexOf(key), index));
  });
  it('refuses a wrong key of the same length', () => {
    assert.equal(secrets.indexOf('vlg-first-key-0123456780'), -1);
    assert.equal(secrets.indexOf('k4'), -1);
  });
  it('refuses a prefix and an extension of a key, also by a NUL byte the padding would hide', () => {
    assert.equal(secrets.indexOf('vlg-first-key-012345678'), -1);
    assert.equal(secrets.indexOf('vlg-first-key-01234567890'), -1);
    assert.equal(secrets.indexOf('k3\0'), -1);
    assert.equal(secrets.indexOf('k'), -1);
  });
  it('refuses the empty string, and an empty secret is not matched by padding', () => {
    assert.equal(secrets.indexOf(''), -1);
    const withEmpty = new SecretSet(['', 'x']);
    assert.equal(withEmpty.indexOf(''), 0);
    assert.equal(withEmpty.indexOf('\0'), -1);
  });
  it('refuses a very long value (1 MB), also one that starts with a key, and still works after it', () => {
    const long = `${keys[0]}${'x'.repeat(1024 * 1024)}`;
    assert.equal(secrets.indexOf(long), -1);
    assert.equal(secrets.indexOf('y'.repeat(1024 * 1024)), -1);
    assert.equal(secrets.indexOf(keys[1]!), 1);
  });
  it('compares non-ASCII by its UTF-8 bytes', () => {
    const unicode = new SecretSet(['clé-秘密-🔑', 'cle']);
    assert.equal(unicode.indexOf('clé-秘密-🔑'), 0);
    assert.equal(unicode.indexOf('cle-秘密-🔑'), -1);
    assert.equal(unicode.indexOf('clé-秘密-'), -1);
    assert.equal(unicode.indexOf('clé'), -1, 'same UTF-16 length as "cle", one more UTF-8 byte');
    assert.equal(unicode.indexOf('cle'), 1);
    // Wider than the padding in bytes but not in UTF-16 units.
    assert.equal(new SecretSet(['a'.repeat(64)]).indexOf('é'.repeat(64)), -1);
    assert.equal(new SecretSet(['a'.repeat(64)]).indexOf('a'.repeat(64)), 0);
  });
  it('is the same check through BearerAuth', () => {
    const auth = new BearerAuth(keys);
    assert.deepEqual(auth.check(`Bearer ${keys[2]}`), { keyId: 'key-3' });
    assert.deepEqual(auth.check(`Bearer ${keys[2]}x`), { failure: 'wrong_api_key' });
    assert.deepEqual(auth.check(`Bearer ${'z'.repeat(1024 * 1024)}`), { failure: 'wrong_api_key' });
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
