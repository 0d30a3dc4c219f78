import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { textEvents } from '../../tools/testing/mock-upstream.ts';
import { readStream } from '../support/gateway-harness.ts';
import { phoneScenario, startPhoneAgent, type PhoneAgentSetup } from '../support/phone-agent.ts';
import { postFixture } from './fixtures.ts';

const SLOW_ANSWER = 'One moment please. Your order ships tomorrow.';

describe('platform retries are answered once', () => {
  let setup: PhoneAgentSetup;
  before(async () => {
    setup = await startPhoneAgent();
    setup.upstream.respondWith({ events: textEvents(SLOW_ANSWER), eventIntervalMs: 15 });
  });
  after(async () => {
    setup.upstream.respondWith(phoneScenario);
    await setup.close();
  });

  const post = (path: string, name: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    postFixture(setup.gateway, path, name, { headers, ...(signal ? { signal } : {}) });

  it('TRTC: a retry after the timeout (same X-Request-Id) gets the answer already running, the model runs once', async () => {
    const seen = setup.upstream.requests.length;
    const controller = new AbortController();
    const first = await post('/trtc/v1/chat/completions', 'trtc', { 'x-request-id': 'req-timeout' }, controller.signal);
    await first.body!.getReader().read();
    controller.abort();
    const retry = await readStream(await post('/trtc/v1/chat/completions', 'trtc', { 'x-request-id': 'req-timeout' }));
    assert.equal(retry.text, SLOW_ANSWER);
    assert.equal(retry.sawDone, true);
    assert.equal(setup.upstream.requests.length, seen + 1);
    assert.equal(setup.upstream.requests[seen]!.aborted, false, 'the model was not stopped for the retry');

    const again = await readStream(await post('/trtc/v1/chat/completions', 'trtc', { 'x-request-id': 'req-timeout' }));
    assert.equal(again.text, SLOW_ANSWER, 'a retry of a finished turn is given its answer');
    assert.equal(setup.upstream.requests.length, seen + 1);
    assert.ok(setup.gateway.logs.some((line) => line.msg === 'turn' && line.retry === true));

    const next = await readStream(await post('/trtc/v1/chat/completions', 'trtc', { 'x-request-id': 'req-next' }));
    assert.equal(next.text, SLOW_ANSWER);
    assert.equal(setup.upstream.requests.length, seen + 2, 'a new request id is a new turn');
  });

  it('LiveKit: an identical request while the first is still answering is a retry of it: one turn, given in full', async () => {
    const seen = setup.upstream.requests.length;
    const first = await post('/livekit/v1/chat/completions', 'livekit');
    await setup.upstream.waitForRequests(seen + 1);
    const retry = await readStream(await post('/livekit/v1/chat/completions', 'livekit'));
    assert.equal(retry.text, SLOW_ANSWER);
    assert.equal((await readStream(first)).sawDone, true, 'the abandoned request still ends well-formed');
    assert.equal(setup.upstream.requests.length, seen + 1);
  });

  it('a newer turn of the call stops a turn that a retry took over', async () => {
    const seen = setup.upstream.requests.length;
    const controller = new AbortController();
    const first = await post('/trtc/v1/chat/completions', 'trtc', { 'x-request-id': 'req-cut' }, controller.signal);
    await first.body!.getReader().read();
    controller.abort();
    const retry = post('/trtc/v1/chat/completions', 'trtc', { 'x-request-id': 'req-cut' });
    const retried = await retry;
    await retried.body!.getReader().read();
    const next = await readStream(await post('/trtc/v1/chat/completions', 'trtc', { 'x-request-id': 'req-after' }));
    assert.equal(next.text, SLOW_ANSWER);
    await setup.upstream.waitForAbort(seen);
  });
});
