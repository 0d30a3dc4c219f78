import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { runCheck } from '../../../tools/cli/commands/check.ts';
import type { CheckReport } from '../../../tools/check/suite.ts';
import { GREETING } from '../../support/phone-agent.ts';
import { startSocketAgent, type SocketAgentSetup } from '../../support/socket-agent.ts';
import { textSink } from '../../support/text-sink.ts';

const SECRET = 'retell-secret-0123456789';
const AUTH_TOKEN = 'twilio-auth-token-0123456789';

type Message = Record<string, any>;

/**
 * A Retell server with one rule broken, chosen by the path `/retell/<mode>/<call_id>`:
 * `no-complete` never ends an answer; `no-supersede` keeps streaming an older response_id;
 * `no-pong` asks for auto_reconnect but never answers a ping; `close-1000` hangs up (1000) on a
 * frame it cannot read; `bad-action` sends end_call as a string, before content_complete;
 * `two-digits` presses "12" in one digit_to_press; `digit-other-id` presses on response_id 0.
 * Otherwise it answers like a good server: five words, 20 ms apart, then content_complete.
 */
function brokenRetell(socket: WebSocket, mode: string): void {
  const send = (event: Message) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(event));
  send({ response_type: 'config', config: { auto_reconnect: true, call_details: false } });
  send({ response_type: 'response', response_id: 0, content: 'Hello.', content_complete: true });
  let latest = 0;
  socket.on('message', (data) => {
    let event: Message;
    try {
      event = JSON.parse(String(data)) as Message;
    } catch {
      if (mode === 'close-1000') socket.close(1000);
      return;
    }
    if (event.interaction_type === 'ping_pong' && mode !== 'no-pong') send({ response_type: 'ping_pong', timestamp: event.timestamp });
    if (event.interaction_type !== 'response_required' && event.interaction_type !== 'reminder_required') return;
    const id = event.response_id as number;
    latest = id;
    const words = String(event.transcript.at(-1)?.content ?? '').includes('everything') ? 40 : 5;
    const bye = /goodbye/i.test(String(event.transcript.at(-1)?.content ?? ''));
    const press = /press 1/i.test(String(event.transcript.at(-1)?.content ?? ''));
    const keypad = press && mode === 'two-digits' ? { digit_to_press: '12' } : {};
    if (press && mode === 'digit-other-id')
      send({ response_type: 'response', response_id: 0, content: '', content_complete: true, digit_to_press: '1' });
    let sent = 0;
    const timer = setInterval(() => {
      if (latest !== id && mode !== 'no-supersede') return clearInterval(timer);
      if (sent < words) {
        send({
          response_type: 'response',
          response_id: id,
          content: `word${sent++} `,
          content_complete: false,
          ...(bye && mode === 'bad-action' ? { end_call: 'true' } : {}),
        });
        return;
      }
      clearInterval(timer);
      if (mode !== 'no-complete')
        send({
          response_type: 'response',
          response_id: id,
          content: '',
          content_complete: true,
          ...(bye ? { end_call: mode === 'bad-action' ? 'true' : true } : {}),
          ...keypad,
        });
    }, 20);
    socket.once('close', () => clearInterval(timer));
  });
}

/**
 * A Twilio server with one rule broken, chosen by the path `/twilio/<mode>`: `no-last` never
 * ends an answer; `ignore-interrupt` keeps streaming after an interrupt; `object-handoff` sends
 * handoffData as an object; `bad-digits` presses "1x"; `digits-first` presses before the answer's
 * text; `bad-language` switches language without a transcriptionLanguage; `unsigned` (like every
 * mode) takes any handshake.
 */
function brokenTwilio(socket: WebSocket, mode: string): void {
  const send = (event: Message) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(event));
  let current: NodeJS.Timeout | undefined;
  socket.on('close', () => clearInterval(current));
  socket.on('message', (data) => {
    let event: Message;
    try {
      event = JSON.parse(String(data)) as Message;
    } catch {
      return;
    }
    if (event.type === 'interrupt' && mode !== 'ignore-interrupt') clearInterval(current);
    if (event.type !== 'prompt' || typeof event.voicePrompt !== 'string') return;
    clearInterval(current);
    const words = event.voicePrompt.includes('everything') ? 60 : 5;
    const bye = /goodbye/i.test(event.voicePrompt);
    const press = /press 1/i.test(event.voicePrompt);
    if (mode === 'bad-language' && /[\u4e00-\u9fff]/.test(event.voicePrompt)) send({ type: 'language', ttsLanguage: 'cmn-CN' });
    if (press && mode === 'digits-first') send({ type: 'sendDigits', digits: '1' });
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < words) return send({ type: 'text', token: `word${sent++} `, last: false });
      clearInterval(timer);
      if (mode !== 'no-last') send({ type: 'text', token: '', last: true });
      if (press && mode === 'bad-digits') send({ type: 'sendDigits', digits: '1x' });
      if (bye)
        send({
          type: 'end',
          handoffData: mode === 'object-handoff' ? { reasonCode: 'end-call' } : JSON.stringify({ reasonCode: 'end-call' }),
        });
    }, 20);
    current = timer;
  });
}

describe('voice-llm-gateway check --platform retell|twilio', () => {
  let setup: SocketAgentSetup;
  let broken: Server;
  let brokenBase: string;
  before(async () => {
    setup = await startSocketAgent(
      {
        retell: { secret: SECRET, agent: 'support', greeting: GREETING },
        twilio: { authToken: AUTH_TOKEN, agent: 'support' },
        // The agent presses keys, and its language is auto (the default): both signals are exercised.
      },
      { pressDigits: {} },
    );
    broken = createServer();
    const sockets = new WebSocketServer({ server: broken });
    sockets.on('connection', (socket, request) => {
      const [, platform, mode = ''] = (request.url ?? '').split('/');
      if (platform === 'retell') brokenRetell(socket, mode);
      else brokenTwilio(socket, mode);
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    brokenBase = `ws://127.0.0.1:${(broken.address() as AddressInfo).port}`;
  });
  after(async () => {
    await setup.close();
    broken.closeAllConnections();
    await new Promise((resolve) => broken.close(resolve));
  });

  // The broken servers answer in well under a second: a short limit keeps their unanswered turns short.
  const check = async (args: string[], timeoutMs = 3000) => {
    const output = textSink();
    const error = textSink();
    const code = await runCheck([...args, '--timeout-ms', String(timeoutMs), '--json'], { output, error });
    assert.equal(error.text(), '');
    return { code, report: JSON.parse(output.text()) as CheckReport };
  };
  const statuses = (report: CheckReport) => Object.fromEntries(report.cases.map((c) => [c.id, c.status]));
  const findingsOf = (report: CheckReport, id: string) => report.cases.find((c) => c.id === id)!.findings;

  it('passes the gateway on Retell: every rule exercised, digit_to_press too', async () => {
    const { code, report } = await check(['--platform', 'retell', '--base-url', `${setup.base}/retell/${SECRET}`]);
    assert.deepEqual(
      statuses(report),
      {
        'retell-begin': 'pass',
        'retell-response': 'pass',
        'retell-reminder': 'pass',
        'retell-supersede': 'pass',
        'retell-ping-pong': 'pass',
        'retell-bad-messages': 'pass',
        'retell-call-actions': 'pass',
        'retell-digit-to-press': 'pass',
      },
      JSON.stringify(report.cases),
    );
    assert.equal(code, 0);
    assert.match(report.target!, /Retell's custom LLM WebSocket at ws:\/\/127\.0\.0\.1:\d+\/retell\/<secret>\/\{call_id\}/);
    assert.ok(!JSON.stringify(report).includes(SECRET), 'the report never shows the path secret');
  });

  it('passes the gateway on Twilio with a signed handshake, and checks that a forged one is refused', async () => {
    const { code, report } = await check(['--platform', 'twilio', '--base-url', `${setup.base}/twilio`, '--api-key', AUTH_TOKEN]);
    assert.deepEqual(
      statuses(report),
      {
        'twilio-answer': 'pass',
        'twilio-interrupt': 'pass',
        'twilio-end': 'pass',
        'twilio-bad-messages': 'pass',
        'twilio-signature': 'pass',
        'twilio-send-digits-language': 'pass',
      },
      JSON.stringify(report.cases),
    );
    assert.equal(code, 0);
  });

  for (const [mode, id, rule] of [
    ['no-complete', 'retell-response', 'retell-content-complete'],
    ['no-supersede', 'retell-supersede', 'retell-superseded'],
    ['no-pong', 'retell-ping-pong', 'retell-ping-pong'],
    ['close-1000', 'retell-bad-messages', 'socket-close-1000'],
    ['bad-action', 'retell-call-actions', 'retell-action-shape'],
    ['two-digits', 'retell-digit-to-press', 'retell-digit-to-press'],
    ['digit-other-id', 'retell-digit-to-press', 'retell-digit-to-press'],
  ] as const) {
    it(`fails a Retell server that breaks ${rule} (${mode}), quoting how to fix it`, async () => {
      const { code, report } = await check(['--platform', 'retell', '--base-url', `${brokenBase}/retell/${mode}`], 1500);
      assert.equal(statuses(report)[id], 'fail', JSON.stringify(report.cases));
      const found = findingsOf(report, id).find((f) => f.rule === rule);
      assert.ok(found, JSON.stringify(findingsOf(report, id)));
      assert.ok(found.fix.length > 20);
      assert.equal(code, 1);
    });
  }

  it('quotes the offending Retell message', async () => {
    const { report } = await check(['--platform', 'retell', '--base-url', `${brokenBase}/retell/bad-action`], 1500);
    const found = findingsOf(report, 'retell-call-actions').find((f) => f.rule === 'retell-action-shape')!;
    assert.match(found.quote!, /"end_call":"true"/);
  });

  for (const [mode, id, rule] of [
    ['no-last', 'twilio-answer', 'twilio-last'],
    ['ignore-interrupt', 'twilio-interrupt', 'twilio-interrupt'],
    ['object-handoff', 'twilio-end', 'twilio-end-shape'],
    ['bad-digits', 'twilio-send-digits-language', 'twilio-send-digits'],
    ['digits-first', 'twilio-send-digits-language', 'twilio-send-digits'],
    ['bad-language', 'twilio-send-digits-language', 'twilio-language'],
    ['unsigned', 'twilio-signature', 'twilio-signature'],
  ] as const) {
    it(`fails a Twilio server that breaks ${rule} (${mode})`, async () => {
      const { code, report } = await check(
        ['--platform', 'twilio', '--base-url', `${brokenBase}/twilio/${mode}`, '--api-key', AUTH_TOKEN],
        1500,
      );
      assert.equal(statuses(report)[id], 'fail', JSON.stringify(report.cases));
      assert.ok(
        findingsOf(report, id).some((f) => f.rule === rule),
        JSON.stringify(findingsOf(report, id)),
      );
      assert.equal(code, 1);
    });
  }

  it('skips the signature rule without an Auth Token, and needs no --api-key or --model on a socket platform', async () => {
    const { report } = await check(['--platform', 'twilio', '--base-url', `${brokenBase}/twilio/good`], 1500);
    assert.equal(statuses(report)['twilio-signature'], 'skip');
    assert.equal(statuses(report)['twilio-answer'], 'pass');
  });

  it('skips the key and language cases, with the reason, on servers that never press a key or switch language', async () => {
    const twilioReport = (await check(['--platform', 'twilio', '--base-url', `${brokenBase}/twilio/good`], 1500)).report;
    const twilioCase = twilioReport.cases.find((c) => c.id === 'twilio-send-digits-language')!;
    assert.equal(twilioCase.status, 'skip');
    assert.match(twilioCase.summary, /no sendDigits .*; no language message/);
    const retellReport = (await check(['--platform', 'retell', '--base-url', `${brokenBase}/retell/good`], 1500)).report;
    const retellCase = retellReport.cases.find((c) => c.id === 'retell-digit-to-press')!;
    assert.equal(retellCase.status, 'skip');
    assert.match(retellCase.summary, /pressed no key/);
  });

  it('quotes the malformed key press', async () => {
    const { report } = await check(['--platform', 'retell', '--base-url', `${brokenBase}/retell/two-digits`], 1500);
    const found = findingsOf(report, 'retell-digit-to-press').find((f) => f.rule === 'retell-digit-to-press')!;
    assert.match(found.quote!, /"digit_to_press":"12"/);
    assert.match(found.message, /not exactly one key/);
  });
});
