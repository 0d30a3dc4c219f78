import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callerLanguage, turnLanguage } from '../../../src/agent/language/caller-language.ts';
import { PHRASES, type Phrases } from '../../../src/agent/language/phrases.ts';

/** Every phrase of a language as text (the list-making ones applied to a sample list). */
function texts(phrases: Phrases): string[] {
  return [
    phrases.apology,
    ...phrases.filler,
    phrases.farewell,
    phrases.codeFallback,
    phrases.interruptionNote,
    phrases.notePrefix,
    phrases.endCallDescription,
    phrases.farewellArgument,
    phrases.transferDescription,
    phrases.destinations([phrases.destinationChoice('sales', 'x'), 'billing']),
    phrases.destinationArgument,
    phrases.pressDigitsDescription,
    phrases.pressKeyDescription,
    phrases.digitsArgument(true),
    phrases.digitsArgument(false),
  ];
}

describe('the phrase catalog', () => {
  it('has every phrase in every language, none blank', () => {
    for (const [language, phrases] of Object.entries(PHRASES)) {
      for (const text of texts(phrases)) assert.notEqual(text.trim(), '', `${language}: a blank phrase`);
      assert.ok(phrases.filler.length > 0, `${language}: fillers`);
    }
  });

  it('writes Chinese in Chinese: Chinese characters in every phrase, no ASCII space or punctuation around them', () => {
    for (const text of texts(PHRASES.zh)) {
      assert.match(text, /\p{Script=Han}/u, text);
      assert.doesNotMatch(text.replace(/sales|billing|x/g, ''), /[ ,.;:()]/, `ASCII spacing or punctuation in "${text}"`);
    }
  });

  it('keeps the English wording the gateway always had', () => {
    assert.equal(
      PHRASES.en.interruptionNote,
      '(The caller interrupted your previous answer at this point and did not hear the rest. Do not repeat it unless asked.)',
    );
    assert.equal(PHRASES.en.endCallDescription, 'End the phone call. Call this once the conversation is over or the caller says goodbye.');
    assert.equal(
      PHRASES.en.transferDescription,
      'Transfer the call to a human. Call this when the caller asks for a person or you cannot help.',
    );
    assert.equal(PHRASES.en.farewell, 'Goodbye, thanks for calling.');
    assert.equal(
      PHRASES.en.destinations([PHRASES.en.destinationChoice('sales', 'buying'), 'billing']),
      ' Destinations: sales: buying; billing.',
    );
  });

  it('lists Chinese destinations with Chinese punctuation', () => {
    assert.equal(
      PHRASES.zh.destinations([PHRASES.zh.destinationChoice('sales', '买东西'), 'billing']),
      '可转接的去向：sales：买东西；billing。',
    );
  });
});

describe('the turn language', () => {
  it("auto follows the caller's last words; zh and en are fixed", () => {
    assert.equal(callerLanguage('你好'), 'zh');
    assert.equal(callerLanguage('hello'), 'en');
    assert.equal(turnLanguage('auto', '请问几点开门'), 'zh');
    assert.equal(turnLanguage('auto', 'when do you open?'), 'en');
    assert.equal(turnLanguage('auto', ''), 'en');
    assert.equal(turnLanguage('zh', 'when do you open?'), 'zh');
    assert.equal(turnLanguage('en', '请问几点开门'), 'en');
  });
});
