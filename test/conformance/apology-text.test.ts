import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PHRASES } from '../../src/agent/language/phrases.ts';
import { looksLikeApology } from '../../src/conformance/apology-text.ts';

describe('looksLikeApology', () => {
  it("recognizes the gateway's default apology in either language, after a filler phrase too", () => {
    assert.equal(looksLikeApology(PHRASES.en.apology), true);
    assert.equal(looksLikeApology(`请稍等。${PHRASES.zh.apology}`), true);
    assert.equal(looksLikeApology('Hello! How can I help?'), false);
    assert.equal(looksLikeApology(''), false);
  });
});
