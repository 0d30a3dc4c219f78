import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { hangupCommand, transferCommand } from '../../../src/agent/call-control/ims-commands.ts';
import { runSimulate, SIMULATE_USAGE } from '../../../tools/cli/commands/simulate.ts';
import { demoConfigSource } from '../../../src/config/demo-config.ts';
import type { ConversationReport } from '../../../tools/simulate/run-script.ts';
import { startMockUpstream, textEvents, type MockUpstream } from '../../../tools/testing/mock-upstream.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../../support/gateway-harness.ts';
import { simulateCommand } from '../../support/run-simulate.ts';
import { textSink } from '../../support/text-sink.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/conversation.yaml');

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('voice-llm-gateway simulate against the real gateway (demo agent)', () => {
  let gateway: TestGateway;
  let dir: string;
  before(async () => {
    gateway = await startTestGateway(structuredClone(demoConfigSource) as Record<string, unknown>);
    dir = mkdtempSync(join(tmpdir(), 'vlg-simulate-'));
  });
  after(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = simulateCommand;

  it('runs a scripted call to its hangup and reports every turn as JSON', async () => {
    const script = join(dir, 'call.yaml');
    writeFileSync(
      script,
      [
        "caller: '13800000001'",
        'userData: { customerName: Li Lei }',
        'turns:',
        '  - say: hello',
        '    expect: { contains: connection works, hangup: false }',
        '  - say: the weather in Hangzhou',
        '    expect: { contains: weather in Hangzhou }',
        '  - say: ok, bye',
        '    expect: { hangup: true }',
      ].join('\n'),
    );
    const { code, output, error } = await run([
      '--base-url',
      `${gateway.url}/v1`,
      '--api-key',
      TEST_KEY,
      '--model',
      'demo',
      '--extra-query',
      'task_id=1&room_id=2',
      '--script',
      script,
      '--json',
    ]);
    assert.equal(error, '');
    const report = JSON.parse(output) as ConversationReport;
    assert.equal(code, 0, output);
    assert.equal(report.ok, true);
    assert.equal(report.model, 'demo');
    assert.match(report.instanceId, /^[0-9a-f]{32}$/);
    assert.deepEqual(
      report.turns.map((t) => t.sentenceId),
      [1, 2, 3],
    );
    assert.deepEqual(
      report.turns.map((t) => t.said),
      ['hello', 'the weather in Hangzhou', 'ok, bye'],
    );
    assert.deepEqual(
      report.turns.map((t) => t.messagesSent),
      [1, 3, 5],
    );
    for (const turn of report.turns) {
      assert.equal(turn.status, 200);
      assert.equal(turn.sawDone, true);
      assert.deepEqual(turn.violations, []);
      assert.deepEqual(turn.problems, []);
      assert.equal(typeof turn.ttftMs, 'number');
      assert.ok(turn.totalMs >= turn.ttftMs!);
      assert.ok(turn.expectations.length > 0 && turn.expectations.every((e) => e.pass), JSON.stringify(turn.expectations));
    }
    assert.match(report.turns[0]!.answer, /connection works/i);
    assert.equal(report.turns[0]!.finishReason, 'stop');
    assert.equal(report.turns[0]!.historyRecord, report.turns[0]!.answer, 'the full answer is kept');
    assert.match(report.turns[1]!.answer, /the weather in Hangzhou/);
    const bye = report.turns[2]!;
    assert.match(bye.spoken, /goodbye/i);
    assert.equal(bye.finishReason, 'tool_calls');
    assert.deepEqual(bye.signals, [{ type: 'hangup', via: 'tool-call', functionName: 'hangup', arguments: '{}' }]);
    assert.deepEqual(report.ended, { type: 'hangup', via: 'tool-call', turn: 3 });
    assert.deepEqual(report.notRun, []);

    // What reached the gateway: the IMS call metadata, one call across the three turns.
    const turnLogs = gateway.logs.filter((l) => l.instanceId === report.instanceId);
    assert.ok(turnLogs.length >= 3, JSON.stringify(gateway.logs.slice(-5)));
  });

  it('prints a readable per-turn report and fails when an expectation fails or the call ends early', async () => {
    const script = join(dir, 'early.yaml');
    writeFileSync(script, 'turns:\n  - say: hi, bye\n  - say: are you still there?\n');
    const { code, output } = await run(['--base-url', gateway.url, '--api-key', TEST_KEY, '--model', 'demo', '--script', script]);
    assert.equal(code, 1);
    assert.match(output, /Turn 1 \(sentenceId 1\)/);
    assert.match(output, /caller: hi, bye/);
    assert.match(output, /TTFT \d+ ms · total \d+ ms · finish tool_calls/);
    assert.match(output, /signals: hangup \(tool call hangup \{\}\)/);
    assert.match(output, /problem: the call was hung up at turn 1; 1 turn\(s\) did not run/);
    assert.match(output, /^FAIL: 1 turn\(s\)/m);

    const failing = join(dir, 'failing.yaml');
    writeFileSync(failing, 'turns:\n  - say: hello\n    expect: { contains: pizza }\n');
    const second = await run(['--base-url', gateway.url, '--api-key', TEST_KEY, '--model', 'demo', '--script', failing]);
    assert.equal(second.code, 1);
    assert.match(second.output, /expect contains "pizza": FAIL \(the caller heard "Hi, this is/);
  });

  it('runs the shipped example against the demo agent', async () => {
    const { code, output } = await run([
      '--base-url',
      `${gateway.url}/v1`,
      '--api-key',
      TEST_KEY,
      '--model',
      'demo',
      '--script',
      EXAMPLE,
      '--json',
    ]);
    const report = JSON.parse(output) as ConversationReport;
    assert.equal(
      code,
      0,
      JSON.stringify(
        report.turns.map((t) => [t.problems, t.expectations]),
        null,
        1,
      ),
    );
    assert.equal(report.ended?.type, 'hangup');
  });

  it('reports a refused key as a failed turn with the HTTP status', async () => {
    const script = join(dir, 'one.yaml');
    writeFileSync(script, 'turns:\n  - say: hello\n  - say: anyone?\n');
    const { code, output } = await run([
      '--base-url',
      gateway.url,
      '--api-key',
      'wrong-key',
      '--model',
      'demo',
      '--script',
      script,
      '--json',
    ]);
    assert.equal(code, 1);
    const report = JSON.parse(output) as ConversationReport;
    assert.equal(report.turns.length, 1);
    assert.equal(report.turns[0]!.status, 401);
    assert.match(report.turns[0]!.problems[0]!, /^HTTP 401: \{"error"/);
    assert.deepEqual(report.notRun, [{ turn: 2, say: 'anyone?' }]);
  });

  it('holds an interactive call from lines typed on its input, until the agent hangs up', async () => {
    const input = new PassThrough();
    const output = textSink();
    const error = textSink();
    const done = runSimulate(['--base-url', `${gateway.url}/v1`, '--api-key', TEST_KEY, '--model', 'demo', '--caller', '13800000001'], {
      input,
      output,
      error,
    });
    input.write('hello\n');
    await until(() => /\[sentenceId 1 · first token \d+ ms/.test(output.text()), 'the first answer');
    assert.match(output.text(), /you> hello\nagent> Hi, this is the Voice LLM Gateway demo agent/);
    input.write('/history\n');
    await until(() => output.text().includes('  user: "hello"'), 'the history');
    input.write('ok bye\n');
    assert.equal(await done, 0);
    assert.match(
      output.text(),
      /agent> Goodbye, thanks for calling\.\n {2}\[sentenceId 2 · first token \d+ ms · total \d+ ms · finish tool_calls\]/,
    );
    assert.match(output.text(), /\*\*\* The agent hangs up \(hangup tool call\)\. Call ended\. \*\*\*/);
    assert.equal(error.text(), '');
  });

  it('ends an interactive call on /quit and at the end of its input', async () => {
    const input = new PassThrough();
    const output = textSink();
    const done = runSimulate(['--base-url', gateway.url, '--api-key', TEST_KEY, '--model', 'demo'], { input, output, error: textSink() });
    input.end('hello\n/history\n/quit\nnever said\n');
    assert.equal(await done, 0);
    assert.match(output.text(), /agent> Hi, this is/, 'lines and commands are taken in the order typed');
    assert.match(output.text(), /\n {2}user: "hello"\n {2}assistant: "Hi, this is/);
    assert.doesNotMatch(output.text(), /never said/);
    assert.match(output.text(), /Call ended by the caller\./);

    const piped = new PassThrough();
    const out2 = textSink();
    const done2 = runSimulate(['--base-url', gateway.url, '--api-key', TEST_KEY, '--model', 'demo'], {
      input: piped,
      output: out2,
      error: textSink(),
    });
    piped.end('hello\nhow are you\n');
    assert.equal(await done2, 0);
    assert.match(out2.text(), /sentenceId 2/);
  });
});

describe('simulate: arguments', () => {
  const run = simulateCommand;

  it('prints its usage on --help', async () => {
    const { code, output } = await run(['--help']);
    assert.equal(code, 0);
    assert.equal(output, SIMULATE_USAGE);
  });

  it('refuses missing or bad flags with status 2', async () => {
    const base = ['--base-url', 'http://127.0.0.1:9/v1', '--api-key', 'k', '--model', 'm'];
    for (const [args, message] of [
      [['--api-key', 'k', '--model', 'm'], /--base-url is required/],
      [['--base-url', 'http://x/v1', '--model', 'm'], /--api-key is required/],
      [['--base-url', 'http://x/v1', '--api-key', 'k'], /--model is required/],
      [['--base-url', 'ftp://x', '--api-key', 'k', '--model', 'm'], /http or https/],
      [['--base-url', 'http://x/v1?a=1', '--api-key', 'k', '--model', 'm'], /--extra-query/],
      [[...base, '--barge-in-ms', 'soon'], /--barge-in-ms must be a whole number/],
      [[...base, '--json'], /--json needs --script/],
      [[...base, '--bogus'], /Unknown option '--bogus'/],
      [[...base, 'extra'], /unexpected argument "extra"/],
    ] as const) {
      const { code, error } = await run([...args]);
      assert.equal(code, 2, `${args.join(' ')}: ${error}`);
      assert.match(error, message);
    }
  });

  it('reports a script that does not validate, with status 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlg-simulate-'));
    try {
      const script = join(dir, 'bad.yaml');
      writeFileSync(script, 'turns:\n  - sya: hello\n');
      const { code, error } = await run(['--base-url', 'http://127.0.0.1:9', '--api-key', 'k', '--model', 'm', '--script', script]);
      assert.equal(code, 2);
      assert.match(error, /Invalid conversation script .*bad\.yaml/);
      assert.match(error, /turns\[0\]/);
      const missing = await run(['--base-url', 'http://127.0.0.1:9', '--api-key', 'k', '--model', 'm', '--script', join(dir, 'nope.yaml')]);
      assert.equal(missing.code, 2);
      assert.match(missing.error, /cannot read the file: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts the command name itself as the first argument', async () => {
    const { code } = await run(['simulate', '--help']);
    assert.equal(code, 0);
  });
});

describe('simulate against a mock upstream: barge-in, call commands, failures', () => {
  let upstream: MockUpstream;
  const STORY = 'Once upon a time there was a small fox who lived at the edge of a very large forest, far from the town.';
  before(async () => {
    upstream = await startMockUpstream((request) => {
      const messages = (request.body as { messages: Array<{ content: string }> }).messages;
      return messages.at(-1)!.content.includes('story')
        ? { events: textEvents(STORY, { chunkSize: 4 }), eventIntervalMs: 25 }
        : { events: textEvents('Okay, I will stop.') };
    });
  });
  after(() => upstream.close());

  const runScript = async (extra: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'vlg-simulate-'));
    const script = join(dir, 'barge.yaml');
    writeFileSync(
      script,
      'turns:\n  - say: tell me a long story\n    bargeInMs: 150\n    expect: { interrupted: true }\n  - say: stop please\n',
    );
    const output = textSink();
    const first = upstream.requests.length;
    try {
      const code = await runSimulate(
        ['--base-url', upstream.url, '--api-key', 'k', '--model', 'slow', '--script', script, '--json', ...extra],
        { output, error: textSink() },
      );
      return { code, report: JSON.parse(output.text()) as ConversationReport, requests: upstream.requests.slice(first) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('with --history-sync-tts, closes the connection and sends what arrived before the cut with the marker', async () => {
    const { code, report, requests } = await runScript(['--history-sync-tts', '--extra-query', 'task_id=1&room_id=2']);
    assert.equal(code, 0, JSON.stringify(report, null, 1));
    const cut = report.turns[0]!;
    assert.equal(cut.interrupted, true);
    assert.equal(cut.interruptedBy, 'barge-in');
    assert.equal(cut.bargeInMs, 150);
    assert.deepEqual(cut.problems, [], 'a cut stream is not blamed for its missing [DONE]');
    assert.ok(cut.answer.length > 0 && cut.answer.length < STORY.length, cut.answer);
    assert.ok(STORY.startsWith(cut.answer));

    assert.equal(requests.length, 2);
    assert.equal(requests[0]!.aborted, true, 'the connection of the cut answer was closed');
    assert.equal(requests[0]!.url, '/v1/chat/completions?task_id=1&room_id=2');
    const next = requests[1]!.body as { messages: Array<{ role: string; content: string }>; extendData: Record<string, unknown> };
    assert.deepEqual(next.messages, [
      { role: 'user', content: 'tell me a long story' },
      { role: 'assistant', content: `${cut.answer}<ims_agent_interrupted>` },
      { role: 'user', content: 'stop please' },
    ]);
    assert.equal(next.extendData.sentenceId, 2);
    assert.equal(next.extendData.instanceId, report.instanceId);
    assert.equal(requests[1]!.headers.authorization, 'Bearer k');
  });

  it('by default keeps the text received before the cut, without a marker', async () => {
    const { code, report, requests } = await runScript([]);
    assert.equal(code, 0);
    const next = requests[1]!.body as { messages: Array<{ role: string; content: string }> };
    assert.deepEqual(next.messages[1], { role: 'assistant', content: report.turns[0]!.answer });
    assert.doesNotMatch(next.messages[1]!.content, /ims_agent_interrupted/);
  });

  it('interactive /interrupt cuts the streaming answer like the caller speaking over it', async () => {
    const first = upstream.requests.length;
    const input = new PassThrough();
    const output = textSink();
    const done = runSimulate(['--base-url', upstream.url, '--api-key', 'k', '--model', 'slow', '--history-sync-tts'], {
      input,
      output,
      error: textSink(),
    });
    input.write('tell me a story\n');
    await until(() => output.text().includes('Once upon'), 'the story to start');
    input.write('/interrupt\n');
    await until(() => output.text().includes('cut by the caller'), 'the cut');
    input.end('stop please\n');
    assert.equal(await done, 0);
    const requests = upstream.requests.slice(first);
    assert.equal(requests[0]!.aborted, true);
    const history = (requests[1]!.body as { messages: Array<{ role: string; content: string }> }).messages;
    assert.equal(history[1]!.role, 'assistant');
    assert.match(history[1]!.content, /^Once upon.*<ims_agent_interrupted>$/);
    assert.ok(history[1]!.content.length < STORY.length);
    assert.match(output.text(), /kept in history: "Once upon[^"]*<ims_agent_interrupted>"/);
  });

  it('fails a turn whose stream breaks the rules (no [DONE])', async () => {
    upstream.respondWith({ events: textEvents('Half an answer.'), omitDone: true });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'vlg-simulate-'));
      const script = join(dir, 'one.yaml');
      writeFileSync(script, 'turns:\n  - say: hello\n');
      const output = textSink();
      const code = await runSimulate(['--base-url', upstream.url, '--api-key', 'k', '--model', 'm', '--script', script, '--json'], {
        output,
        error: textSink(),
      });
      rmSync(dir, { recursive: true, force: true });
      assert.equal(code, 1);
      const report = JSON.parse(output.text()) as ConversationReport;
      assert.deepEqual(
        report.turns[0]!.violations.map((v) => v.rule),
        ['done'],
      );
      assert.match(report.turns[0]!.problems.join('\n'), /stream rule "done"/);
    } finally {
      upstream.respondWith({ events: textEvents('Okay.') });
    }
  });

  const runOne = async (script: string, extra: string[] = []) => {
    const dir = mkdtempSync(join(tmpdir(), 'vlg-simulate-'));
    const file = join(dir, 'script.yaml');
    writeFileSync(file, script);
    const output = textSink();
    const error = textSink();
    try {
      const code = await runSimulate(['--base-url', upstream.url, '--api-key', 'k', '--model', 'm', '--script', file, ...extra], {
        output,
        error,
      });
      return { code, output: output.text(), error: error.text() };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('transfers the call on <imsagent_transfer_call/>, speaking its msg', async () => {
    const destination = { callee: '13900000000', msg: 'Putting you through to "sales" & billing.', errMsg: 'Sorry, nobody is free.' };
    upstream.respondWith({ events: textEvents(`One moment. ${transferCommand(destination)}`, { chunkSize: 7 }) });
    const { code, output } = await runOne(
      'turns:\n  - say: a human please\n    expect: { transfer: true, hangup: false, contains: sales }\n',
      ['--json'],
    );
    assert.equal(code, 0, output);
    const report = JSON.parse(output) as ConversationReport;
    assert.deepEqual(report.ended, { type: 'transfer', turn: 1, ...destination });
    assert.equal(report.turns[0]!.spoken, 'One moment. Putting you through to "sales" & billing.');

    const input = new PassThrough();
    const interactive = textSink();
    const done = runSimulate(['--base-url', upstream.url, '--api-key', 'k', '--model', 'm'], {
      input,
      output: interactive,
      error: textSink(),
    });
    input.write('a human please\n');
    assert.equal(await done, 0);
    assert.match(
      interactive.text(),
      /\*\*\* The agent transfers the call to 13900000000, saying "Putting you through to \\"sales\\" & billing\."; if the transfer fails: "Sorry, nobody is free\."\. Call ended\. \*\*\*/,
    );
  });

  it('hangs up on <imsagent_hangup endword/>, and on a tool call only when its name is the --hangup-function', async () => {
    upstream.respondWith({ events: textEvents(`Alright. ${hangupCommand('Goodbye & take care.')}`) });
    const text = await runOne('turns:\n  - say: bye\n    expect: { hangup: true, contains: take care }\n');
    assert.equal(text.code, 0, text.output);
    assert.match(text.output, /heard: {2}Alright\. Goodbye & take care\./);
    assert.match(text.output, /signals: hangup \(text command, endword "Goodbye & take care\."\)/);

    upstream.respondWith({
      events: [
        ...textEvents('Bye now.').slice(0, -1),
        { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'end_call', arguments: '{}' } }] },
        { finish_reason: 'tool_calls' },
      ],
    });
    const ignored = await runOne('turns:\n  - say: bye\n    expect: { hangup: false }\n', ['--json']);
    assert.equal(ignored.code, 0, ignored.output);
    const report = JSON.parse(ignored.output) as ConversationReport;
    assert.match(report.turns[0]!.warnings[0]!, /tool call end_call ignored by the workflow/);
    const mapped = await runOne('turns:\n  - say: bye\n    expect: { hangup: true }\n', ['--hangup-function', 'end_call']);
    assert.equal(mapped.code, 0, mapped.output);
  });

  it('fails a turn that gets no answer in time, a silent answer, and a spoken interruption marker', async () => {
    upstream.respondWith({ hangBeforeHeaders: true });
    const hung = await runOne('turns:\n  - say: hello\n', ['--timeout-ms', '200']);
    assert.equal(hung.code, 1);
    assert.match(hung.output, /problem: no answer within 200 ms/);

    upstream.respondWith({ events: textEvents('') });
    const silent = await runOne('turns:\n  - say: hello\n');
    assert.equal(silent.code, 1);
    assert.match(silent.output, /problem: silence: the answer carried no text and no call signal/);

    upstream.respondWith({ events: textEvents('Sure<ims_agent_interrupted> thing.') });
    const leaked = await runOne('turns:\n  - say: hello\n');
    assert.equal(leaked.code, 1);
    assert.match(leaked.output, /the answer contains the interruption marker/);
  });

  it('reports a server that is not there', async () => {
    const output = textSink();
    const code = await runSimulate(
      ['--base-url', 'http://127.0.0.1:1/v1', '--api-key', 'k', '--model', 'm', '--script', EXAMPLE, '--json'],
      { output, error: textSink() },
    );
    assert.equal(code, 1);
    const report = JSON.parse(output.text()) as ConversationReport;
    assert.equal(report.turns.length, 1);
    assert.equal(report.turns[0]!.status, 0);
    assert.match(report.turns[0]!.problems[0]!, /^no answer: fetch failed/);
    assert.equal(report.notRun.length, 3);
  });
});
