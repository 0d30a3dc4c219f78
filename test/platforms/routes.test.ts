import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_KEY } from '../support/gateway-harness.ts';
import { startPhoneAgent } from '../support/phone-agent.ts';

describe('platform routes', () => {
  it('answer another method with 405 and the allowed one', async () => {
    const setup = await startPhoneAgent();
    try {
      for (const path of ['/vapi/v1/chat/completions', '/trtc/chat/completions', '/elevenlabs/v1/chat/completions']) {
        const response = await fetch(setup.gateway.url + path, { headers: { authorization: `Bearer ${TEST_KEY}` } });
        assert.equal(response.status, 405, path);
        assert.equal(response.headers.get('allow'), 'POST');
      }
    } finally {
      await setup.close();
    }
  });
});
