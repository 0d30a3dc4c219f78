import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOG, errorStatus, gatewayError, statusText, type ErrorCode } from '../../src/core/error-catalog.ts';
import { GatewayError } from '../../src/core/gateway-error.ts';

interface DocumentedError {
  code: string;
  status: string;
  type: string;
}

/** The rows of the table under "## Every error" in docs/errors.md. */
function documentedErrors(): DocumentedError[] {
  const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const section = text.split(/^## /m).find((part) => part.startsWith('Every error'));
  assert.ok(section, 'docs/errors.md has a section "Every error"');
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  assert.deepEqual(rows[0]?.slice(0, 3), ['Code', 'Status', 'Type'], 'the table starts with Code, Status, Type');
  return rows.slice(2).map(([code, status, type]) => ({ code: unquote(code!), status: status!, type: unquote(type!) }));
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

describe('the error catalog and docs/errors.md', () => {
  const documented = documentedErrors();
  const codes = Object.keys(ERROR_CATALOG) as ErrorCode[];

  it('documents every code of the catalog once, with its status and type', () => {
    for (const code of codes) {
      const rows = documented.filter((row) => row.code === code);
      assert.equal(rows.length, 1, `docs/errors.md lists ${code} once`);
      assert.equal(rows[0]!.status, statusText(ERROR_CATALOG[code].status), `status of ${code}`);
      assert.equal(rows[0]!.type, ERROR_CATALOG[code].type, `type of ${code}`);
    }
  });

  it('documents no code the catalog does not have', () => {
    const unknown = documented.map((row) => row.code).filter((code) => !(code in ERROR_CATALOG));
    assert.deepEqual(unknown, []);
  });
});

describe('gatewayError', () => {
  it('gives the code its catalog status and type, and says the message for the parameters', () => {
    const error = gatewayError('model_not_found', { model: 'nope', available: ['a', 'b'] });
    assert.ok(error instanceof GatewayError);
    assert.deepEqual(error.toBody(), {
      error: {
        message: 'The model "nope" does not exist. Available models: a, b.',
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    });
    assert.equal(error.status, 404);
  });

  it('sets Retry-After and retryable where the code says', () => {
    assert.equal(gatewayError('shutting_down').retryAfterSeconds, 1);
    assert.equal(gatewayError('rate_limit_exceeded', { limit: 10, retryAfterSeconds: 7 }).retryAfterSeconds, 7);
    assert.equal(gatewayError('records_unavailable').retryable, true);
    assert.equal(gatewayError('upstream_error', { httpStatus: 503, retryAfterSeconds: 2 }).retryable, true);
    assert.equal(gatewayError('upstream_error', { httpStatus: 418, retryAfterSeconds: 2 }).retryAfterSeconds, undefined);
  });

  it('takes a status from the few a code may have', () => {
    assert.equal(gatewayError('upstream_rejected_request', { httpStatus: 413 }).status, 413);
    assert.equal(gatewayError('upstream_rejected_request', { httpStatus: 422 }).status, 400);
    assert.equal(errorStatus('upstream_rejected_request'), 400);
  });

  it('words a key failure for where the key was asked', () => {
    assert.match(gatewayError('invalid_api_key', { realm: 'chat', failure: 'missing_api_key' }).message, /^Missing API key/);
    assert.match(gatewayError('invalid_api_key', { realm: 'admin', failure: 'missing_api_key' }).message, /^Missing admin key/);
    assert.equal(
      gatewayError('invalid_api_key', { realm: 'metrics', failure: 'wrong_api_key' }).message,
      'Incorrect metrics key provided.',
    );
    const wrongAdminKey = gatewayError('invalid_api_key', { realm: 'admin', failure: 'wrong_api_key' }).message;
    assert.match(wrongAdminKey, /^Incorrect admin key provided\. Use one of admin\.apiKeys/);
    assert.doesNotMatch(wrongAdminKey, /server\.apiKeys|console's API-KEY/, "an admin key is not the workflow console's chat key");
  });
});
