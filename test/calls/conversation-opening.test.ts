import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { continuesOpening, conversationOpening, OPENING_MESSAGES } from '../../src/calls/conversation-opening.ts';
import type { ChatMessage } from '../../src/core/chat-types.ts';

const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });

describe('conversationOpening', () => {
  it('fingerprints how a conversation begins: system messages and whitespace aside, a few messages at most', () => {
    const call = [user('my name is Li'), assistant('Hello Li.'), user('I live in Hangzhou')];
    const opening = conversationOpening([{ role: 'system', content: 'Be brief.' }, ...call]);
    assert.deepEqual(conversationOpening([user('my  name is\nLi'), ...call.slice(1)]), opening);
    assert.equal(conversationOpening(Array.from({ length: 30 }, (_, i) => user(String(i)))).length, OPENING_MESSAGES);
    assert.ok(opening.join('').length < 100, 'a few dozen characters, whatever the conversation');
  });

  it('gives the same fingerprints from one version to the next (replicas compare them through Redis)', () => {
    const opening = conversationOpening([{ role: 'system', content: 'Be brief.' }, user('Hello there'), assistant('Hi! How can I help?')]);
    assert.deepEqual(opening, ['f5679c2f2e6ff4f1', 'e0690a4e030af790']);
  });

  it('continues: the same first messages, up to the fingerprinted few', () => {
    const newest = conversationOpening([user('my name is Li'), assistant('Hello Li.'), user('I live in Hangzhou')]);
    assert.equal(continuesOpening(newest, conversationOpening([user('my name is Li')])), true, 'a late first sentence');
    assert.equal(continuesOpening(newest, conversationOpening([user('hello, I need a taxi')])), false, 'another conversation');
    assert.equal(continuesOpening(newest, conversationOpening([assistant('Hello Li.')])), false, 'not the same beginning');
    assert.equal(continuesOpening(newest, []), false);
    const long = Array.from({ length: 20 }, (_, i) => user(String(i)));
    assert.equal(continuesOpening(conversationOpening(long), conversationOpening(long.slice(0, 12))), true);
  });
});
