import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { WebSocketServer } from 'ws';
import { runSimulate } from '../../../tools/cli/commands/simulate.ts';
import type { ConversationReport } from '../../../tools/simulate/run-script.ts';
import { ANSWER, GREETING, systemPromptOf } from '../../support/phone-agent.ts';
import { simulateCommand } from '../../support/run-simulate.ts';
import { startSocketAgent, type SocketAgentSetup } from '../../support/socket-agent.ts';
import { textSink } from '../../support/text-sink.ts';

const SECRET = 'retell-secret-0123456789';
const AUTH_TOKEN = 'twilio-auth-token-0123456789';

describe('voice-llm-gateway simulate --platform retell|twilio against the real gateway', () => {
  let setup: SocketAgentSetup;
  let dir: string;
  const script = (name: string, lines: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, lines.join('\n'));
    return path;
  };
  before(async () => {
    // Twilio without publicUrl: the gateway checks the signature over wss:// + Host + path, as the simulator signs it.
    setup = await startSocketAgent(
      {
        retell: { secret: SECRET, agent: 'support', greeting: GREETING },
        twilio: { authToken: AUTH_TOKEN, agent: 'support' },
        // The agent presses keys; its language is auto (the default), so Twilio sessions follow the caller's.
      },
      { pressDigits: {} },
    );
    dir = mkdtempSync(join(tmpdir(), 'vlg-simulate-socket-'));
  });
  after(async () => {
    await setup.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a Retell call on its socket: begin message, call details, reminder, barge-in, end_call', async () => {
    const path = script('retell.yaml', [
      "caller: '+16505550199'",
      'userData: { customerName: Ada }',
      'turns:',
      '  - say: Where is my order?',
      `    expect: { contains: '${ANSWER}', hangup: false }`,
      '  - reminder: true',
      '  - say: Tell me everything',
      '    bargeInMs: 30',
      '    expect: { interrupted: true }',
      '  - say: ok bye',
      '    expect: { hangup: true, contains: Thanks for calling }',
      '  - say: never said',
    ]);
    const seen = setup.upstream.requests.length;
    const { code, output, error } = await simulateCommand([
      '--platform',
      'retell',
      '--base-url',
      `${setup.base}/retell/${SECRET}`,
      '--instance-id',
      'sim-retell-1',
      '--script',
      path,
      '--json',
      '--show-requests',
    ]);
    const report = JSON.parse(output) as ConversationReport;
    assert.equal(report.platform, 'retell');
    assert.equal(report.greeting, GREETING);
    assert.deepEqual(
      report.turns.map((t) => [t.status, t.ok]),
      [
        [101, true],
        [101, true],
        [101, true],
        [101, true],
      ],
      JSON.stringify(report.turns.map((t) => t.problems)),
    );
    assert.equal(report.turns[0]!.answer, ANSWER);
    assert.equal(report.turns[1]!.answer, ANSWER, 'reminder_required is answered on the transcript so far');
    assert.equal(report.turns[2]!.interruptedBy, 'barge-in');
    assert.deepEqual(report.ended, { type: 'hangup', via: 'message', turn: 4 });
    assert.deepEqual(report.notRun, [{ turn: 5, say: 'never said' }]);
    assert.equal(code, 1, 'a turn left unrun fails the run');
    // Retell's way: call_details first, then each turn with the whole transcript and a newer response_id.
    const sent = error
      .split('\n')
      .filter((line) => line.startsWith('request: '))
      .map((line) => JSON.parse(line.slice('request: '.length)) as Record<string, any>);
    assert.deepEqual(
      sent.map((m) => m.interaction_type),
      ['call_details', 'response_required', 'reminder_required', 'response_required', 'update_only', 'response_required'],
    );
    assert.deepEqual(
      sent.filter((m) => m.response_id !== undefined).map((m) => m.response_id),
      [1, 2, 3, 4],
    );
    assert.deepEqual(sent[1]!.transcript, [
      { role: 'agent', content: GREETING },
      { role: 'user', content: 'Where is my order?' },
    ]);
    assert.match(systemPromptOf(setup.upstream.requests[seen]!), /Caller \+16505550199, call sim-retell-1, name Ada\./);
    // The simulator's socket says it is synthetic: the call's turns are recorded as simulate traffic.
    await setup.gateway.records!.flush();
    const recorded = await setup.gateway.records!.getCall('sim-retell-1');
    assert.ok(recorded && recorded.turnRecords.length > 0);
    assert.ok(
      recorded.turnRecords.every((turn) => turn.synthetic === 'simulate'),
      JSON.stringify(recorded.turnRecords.map((t) => t.synthetic)),
    );
  });

  it('says in words that Retell transfers, and shows the greeting', async () => {
    const path = script('retell-transfer.yaml', ['turns:', '  - say: A human, please', '    expect: { transfer: true }']);
    const { code, output } = await simulateCommand([
      '--platform',
      'retell',
      '--base-url',
      `${setup.base}/retell/${SECRET}`,
      '--script',
      path,
    ]);
    assert.match(output, new RegExp(`the agent says: ${GREETING}`));
    assert.match(output, /retell transfers the call at turn 1 to \+14155550100/);
    assert.equal(code, 0, output);
  });

  it('fails at once on a wrong Retell secret', async () => {
    const path = script('retell-short.yaml', ['turns:', '  - say: hello']);
    const { code, output } = await simulateCommand([
      '--platform',
      'retell',
      '--base-url',
      `${setup.base}/retell/wrong-secret`,
      '--script',
      path,
      '--json',
    ]);
    const report = JSON.parse(output) as ConversationReport;
    assert.match(report.problems.join('\n'), /refused with HTTP 401/);
    assert.deepEqual(report.notRun, [{ turn: 1, say: 'hello' }]);
    assert.equal(code, 1);
  });

  it('holds a Twilio call: signed handshake, setup, prompts, a key press, interrupt, the transfer as end', async () => {
    const path = script('twilio.yaml', [
      "caller: '+16505550199'",
      'userData: { customerName: Ada }',
      'turns:',
      '  - say: Where is my order?',
      `    expect: { contains: '${ANSWER}' }`,
      "  - dtmf: '1'",
      `    expect: { contains: '${GREETING}' }`,
      '  - say: Tell me everything',
      '    bargeInMs: 30',
      '    expect: { interrupted: true }',
      '  - say: A human, please',
      '    expect: { transfer: true }',
    ]);
    const seen = setup.upstream.requests.length;
    const { code, output, error } = await simulateCommand([
      '--platform',
      'twilio',
      '--base-url',
      `${setup.base}/twilio`,
      '--api-key',
      AUTH_TOKEN,
      '--instance-id',
      'CAsimulated0001',
      '--script',
      path,
      '--json',
      '--show-requests',
    ]);
    const report = JSON.parse(output) as ConversationReport;
    assert.equal(code, 0, JSON.stringify(report.turns.map((t) => t.problems)));
    assert.equal(report.platform, 'twilio');
    assert.deepEqual(report.ended, { type: 'transfer', callee: '+14155550100', turn: 4 });
    assert.equal(report.turns[2]!.interruptedBy, 'barge-in');
    const types = error
      .split('\n')
      .filter((line) => line.startsWith('request: '))
      .map((line) => (JSON.parse(line.slice('request: '.length)) as { type: string }).type);
    assert.deepEqual(types, ['setup', 'prompt', 'dtmf', 'prompt', 'interrupt', 'prompt']);
    assert.match(systemPromptOf(setup.upstream.requests[seen]!), /Caller \+16505550199, call CAsimulated0001, name Ada\./);
    // The interrupt reached the gateway: it kept the answer cut where the caller cut in.
    const last = (setup.upstream.requests.at(-1)!.body as { messages: Array<{ role: string; content: string }> }).messages;
    const cut = last.findIndex((m) => m.role === 'assistant' && m.content.startsWith('Well, th'));
    assert.ok(cut > 0 && last[cut]!.content.length < 100, JSON.stringify(last));
    assert.match(last[cut + 1]!.content, /interrupted/);
  });

  it('is refused without the Auth Token, and says how to fix it', async () => {
    const path = script('twilio-short.yaml', ['turns:', '  - say: hello']);
    const { code, output } = await simulateCommand(['--platform', 'twilio', '--base-url', `${setup.base}/twilio`, '--script', path]);
    assert.match(output, /refused with HTTP 401: the server may check X-Twilio-Signature/);
    assert.equal(code, 1);
  });

  it('shows the keys a Retell agent presses, and holds them to the script', async () => {
    const path = script('retell-keys.yaml', [
      'turns:',
      '  - say: For sales press 1',
      "    expect: { digits: '1', contains: Choosing that }",
      '  - say: Where is my order?',
      '    expect: { digits: false }',
    ]);
    const args = ['--platform', 'retell', '--base-url', `${setup.base}/retell/${SECRET}`, '--script', path];
    const json = await simulateCommand([...args, '--json']);
    const report = JSON.parse(json.output) as ConversationReport;
    assert.deepEqual(report.turns[0]!.signals, [{ type: 'digits', digits: '1', message: 'Retell digit_to_press' }]);
    assert.deepEqual(report.turns[1]!.signals, []);
    assert.ok(
      report.turns.every((t) => t.expectations.every((e) => e.pass)),
      JSON.stringify(report.turns.map((t) => t.expectations)),
    );
    assert.equal(report.ended, null, 'a key press does not end the call');
    assert.equal(json.code, 0);
    const text = await simulateCommand(args);
    assert.match(text.output, /signals: keys pressed "1" \(Retell digit_to_press\)/);
    assert.match(text.output, /expect keys "1" pressed: pass/);
  });

  it("shows a Twilio agent's language switch and keys, and fails a script that expected other keys", async () => {
    const path = script('twilio-keys.yaml', [
      'turns:',
      '  - say: 我的订单在哪里？',
      '    expect: { language: true, digits: false }',
      '  - say: Enter the extension, press 1w2#',
      "    expect: { digits: '1w2#' }",
      '  - say: Now press 3',
      "    expect: { digits: '4' }",
    ]);
    const args = ['--platform', 'twilio', '--base-url', `${setup.base}/twilio`, '--api-key', AUTH_TOKEN, '--script', path];
    const { code, output } = await simulateCommand([...args, '--json']);
    const report = JSON.parse(output) as ConversationReport;
    const [switched] = report.turns[0]!.signals;
    assert.equal(switched?.type, 'language');
    assert.ok(switched.type === 'language' && /^zh|^cmn/i.test(switched.transcriptionLanguage), JSON.stringify(switched));
    assert.deepEqual(
      report.turns[1]!.signals.filter((s) => s.type === 'digits'),
      [{ type: 'digits', digits: '1w2#', message: 'Twilio sendDigits' }],
    );
    assert.deepEqual(
      report.turns.map((t) => t.problems),
      [[], [], []],
      'sendDigits after the text breaks no rule',
    );
    assert.deepEqual(
      report.turns[2]!.expectations.map((e) => [e.check, e.pass, e.detail]),
      [['keys "4" pressed', false, 'the agent pressed "3"']],
    );
    assert.equal(code, 1, 'a failed expectation fails the run');
  });

  it('takes a key pressed with no words as an answer to a menu, not silence', async () => {
    // A Retell server whose every answer is one key press and nothing said.
    const server = createServer();
    new WebSocketServer({ server }).on('connection', (socket) => {
      const send = (event: Record<string, unknown>) => socket.send(JSON.stringify(event));
      send({ response_type: 'response', response_id: 0, content: '', content_complete: true });
      socket.on('message', (data) => {
        const event = JSON.parse(String(data)) as { interaction_type: string; response_id: number };
        if (event.interaction_type === 'response_required')
          send({ response_type: 'response', response_id: event.response_id, content: '', content_complete: true, digit_to_press: '2' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const path = script('retell-key-only.yaml', ['turns:', '  - say: For support press 2', "    expect: { digits: '2' }"]);
      const base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/retell/any`;
      const { code, output } = await simulateCommand(['--platform', 'retell', '--base-url', base, '--script', path, '--json']);
      const report = JSON.parse(output) as ConversationReport;
      assert.deepEqual(report.turns[0]!.problems, []);
      assert.equal(code, 0, output);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('shows the keys a Twilio agent presses in an interactive call', async () => {
    const input = new PassThrough();
    const output = textSink();
    const error = textSink();
    input.end('For sales press 1\n');
    const code = await runSimulate(['--platform', 'twilio', '--base-url', `${setup.base}/twilio`, '--api-key', AUTH_TOKEN], {
      input,
      output,
      error,
    });
    assert.match(output.text(), /keys pressed "1" \(Twilio sendDigits\)/);
    assert.equal(code, 0, error.text());
  });

  it('holds an interactive Retell call from piped input', async () => {
    const input = new PassThrough();
    const output = textSink();
    const error = textSink();
    input.end('Where is my order?\n/remind\n/history\nok bye\n');
    const code = await runSimulate(['--platform', 'retell', '--base-url', `${setup.base}/retell/${SECRET}`], { input, output, error });
    const text = output.text();
    assert.match(text, new RegExp(`agent> ${GREETING}`));
    assert.match(text, new RegExp(`agent> ${ANSWER}`));
    assert.match(text, /user: "Where is my order\?"/);
    assert.match(text, /The agent hangs up \(its end-of-call message\)/);
    assert.equal(code, 0, error.text());
  });

  it('refuses a dtmf turn on Retell and an IMS-only flag on a socket platform', async () => {
    const path = script('dtmf.yaml', ['turns:', "  - dtmf: '1'"]);
    const dtmf = await simulateCommand(['--platform', 'retell', '--base-url', `${setup.base}/retell/${SECRET}`, '--script', path]);
    assert.equal(dtmf.code, 2);
    assert.match(dtmf.error, /turn 1 is a dtmf turn: only --platform twilio takes those/);
    const flag = await simulateCommand(['--platform', 'twilio', '--base-url', `${setup.base}/twilio`, '--extra-query', 'a=1']);
    assert.equal(flag.code, 2);
    assert.match(flag.error, /--extra-query has no place in a twilio call/);
  });
});
