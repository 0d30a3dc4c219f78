import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { twilioSignature, validTwilioSignature } from '../../src/server/sockets/twilio/twilio-signature.ts';

describe("Twilio's request signature", () => {
  it("matches the example of Twilio's security documentation", () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
    assert.equal(twilioSignature('12345', url, params), '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });

  it('signs the whole URL of a handshake, query string included', () => {
    const url = 'wss://voice.example.com/twilio?shop=1';
    const signature = twilioSignature('token', url);
    assert.ok(validTwilioSignature('token', url, signature));
    assert.ok(!validTwilioSignature('token', 'wss://voice.example.com/twilio', signature));
    assert.ok(!validTwilioSignature('other', url, signature));
    assert.ok(!validTwilioSignature('token', url, undefined));
    assert.ok(!validTwilioSignature('token', url, signature.slice(1)));
  });
});
