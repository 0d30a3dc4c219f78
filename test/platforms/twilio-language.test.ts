import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LanguageFollower } from '../../src/server/sockets/twilio/twilio-language.ts';
import { startSocketAgent, type SocketAgentSetup } from '../support/socket-agent.ts';
import { SocketClient } from '../support/socket-client.ts';

const CODES = {
  zh: { ttsLanguage: 'cmn-CN', transcriptionLanguage: 'zh-CN' },
  en: { ttsLanguage: 'en-US', transcriptionLanguage: 'en-US' },
};

/** Says `words` (transcribed in `lang`) and waits for the answer: every message Twilio got for it, the answer's text last. */
async function turn(client: SocketClient, words: string, lang: string): Promise<Array<Record<string, unknown>>> {
  const from = client.received.length;
  client.send({ type: 'prompt', voicePrompt: words, lang, last: true });
  const last = await client.next((e) => e.type === 'text' && e.last === true, from);
  return client.received.slice(from, client.received.indexOf(last, from) + 1);
}

const switches = (messages: Array<Record<string, unknown>>) => messages.filter((e) => e.type === 'language');

describe('Twilio: the session follows the caller language of an auto-language agent', () => {
  let setup: SocketAgentSetup;
  before(async () => {
    setup = await startSocketAgent({ twilio: { agent: 'support', languages: { zh: CODES.zh } } });
  });
  after(() => setup.close());

  it('sends one language message per change, before the answer, with the configured codes', async () => {
    const client = await SocketClient.connect(`${setup.base}/twilio`);
    client.send({ type: 'setup', callSid: 'CA00000000000000000000000000000081' });
    assert.deepEqual(switches(await turn(client, 'Where is my order?', 'en-US')), [], 'the session is already in English');

    const chinese = await turn(client, '我的订单在哪里？', 'en-US');
    assert.deepEqual(
      chinese[0],
      { type: 'language', ttsLanguage: 'cmn-CN', transcriptionLanguage: 'zh-CN' },
      'switched before the first word',
    );
    assert.equal(switches(chinese).length, 1);
    assert.deepEqual(switches(await turn(client, '还有别的问题。', 'zh-CN')), [], 'once per change');
    // A prompt still transcribed in the old language after the switch does not switch again.
    assert.deepEqual(switches(await turn(client, '谢谢', 'en-US')), []);

    assert.deepEqual(switches(await turn(client, 'Where is my order?', 'zh-CN')), [
      { type: 'language', ttsLanguage: 'en-US', transcriptionLanguage: 'en-US' },
    ]);
    client.close();
  });
});

describe('Twilio: languageSwitch off', () => {
  let setup: SocketAgentSetup;
  before(async () => {
    setup = await startSocketAgent({ twilio: { agent: 'support', languageSwitch: false } });
  });
  after(() => setup.close());

  it('never sends a language message', async () => {
    const client = await SocketClient.connect(`${setup.base}/twilio`);
    client.send({ type: 'setup', callSid: 'CA00000000000000000000000000000082' });
    assert.deepEqual(switches(await turn(client, '我的订单在哪里？', 'en-US')), []);
    client.close();
  });
});

describe('LanguageFollower', () => {
  it('follows only an auto-language agent', () => {
    assert.equal(new LanguageFollower(CODES).follow('我的订单', 'en-US', 'en'), undefined);
    assert.equal(new LanguageFollower(CODES).follow('我的订单', 'en-US', 'zh'), undefined);
    assert.deepEqual(new LanguageFollower(CODES).follow('我的订单', 'en-US', 'auto'), { type: 'language', ...CODES.zh });
  });

  it('reads the session language from the configured codes or the language subtag', () => {
    const follower = new LanguageFollower(CODES);
    assert.equal(follower.follow('你好', 'zh-CN', 'auto'), undefined);
    assert.equal(new LanguageFollower(CODES).follow('你好', 'cmn-Hans-CN', 'auto'), undefined);
    assert.equal(new LanguageFollower(CODES).follow('hello', 'en-GB', 'auto'), undefined);
  });

  it('never switches a session in a language it cannot detect (Spanish is "not Chinese", not English)', () => {
    const follower = new LanguageFollower(CODES);
    assert.equal(follower.follow('¿Dónde está mi pedido?', 'es-ES', 'auto'), undefined);
    assert.equal(follower.follow('我的订单', 'es-ES', 'auto'), undefined);
  });

  it('with no language reported, the first prompt sets it (one message), then only a change does', () => {
    const follower = new LanguageFollower(CODES);
    assert.deepEqual(follower.follow('hello', undefined, 'auto'), { type: 'language', ...CODES.en });
    assert.equal(follower.follow('hello again', undefined, 'auto'), undefined);
  });
});
