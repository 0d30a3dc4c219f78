import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePhoneNumber } from '../../src/store/normalize-phone-number.ts';
import { PhoneLookup } from '../../src/store/phone-lookup.ts';

describe('normalizePhoneNumber', () => {
  it('writes a Chinese number in its national form, however it was spelled', () => {
    for (const spelling of [
      '13800000001',
      '138 0000 0001',
      '138-0000-0001',
      '+8613800000001',
      '+86 138 0000 0001',
      '008613800000001',
      '8613800000001',
      '(138) 0000.0001',
    ]) {
      assert.equal(normalizePhoneNumber(spelling), '13800000001', spelling);
    }
    // Landlines keep (or get back) their trunk 0; 400/800 numbers take none.
    for (const spelling of ['010-12345678', '+86 10 1234 5678', '0086 10 12345678', '+86 010 12345678']) {
      assert.equal(normalizePhoneNumber(spelling), '01012345678', spelling);
    }
    assert.equal(normalizePhoneNumber('+86 571 8888 0000'), '057188880000');
    assert.equal(normalizePhoneNumber('400-123-4567'), '4001234567');
    assert.equal(normalizePhoneNumber('+86 400 123 4567'), '4001234567');
  });

  it("keeps other countries' +code; refuses what is not a number", () => {
    assert.equal(normalizePhoneNumber('+1 (415) 555-0100'), '+14155550100');
    assert.equal(normalizePhoneNumber('0044 20 7946 0000'), '+442079460000');
    // A bare 86 that is not followed by a mobile number stays as it is.
    assert.equal(normalizePhoneNumber('8612345'), '8612345');
    for (const value of ['138****0001', 'sip:alice@example.com', '', '+', '12a3', '1+2']) {
      assert.equal(normalizePhoneNumber(value), undefined, value);
    }
  });
});

describe('PhoneLookup', () => {
  it('hashes a number the same way whatever its spelling, with the key', () => {
    const lookup = new PhoneLookup('a-deployment-secret-0123456789');
    const hash = lookup.hash('13800000001');
    assert.match(hash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(lookup.hash('+86 138-0000-0001'), hash);
    assert.notEqual(lookup.hash('13800000002'), hash);
    assert.notEqual(new PhoneLookup('another-secret-0123456789').hash('13800000001'), hash, 'keyed: another deployment cannot match it');
    assert.equal(lookup.hash('138****0001'), undefined);
    assert.equal(lookup.hash(null), undefined);
    assert.deepEqual(lookup.hashes('13800000001', undefined), { caller: hash, callee: null });
  });
});
