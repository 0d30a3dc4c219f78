import assert from 'node:assert/strict';
import { growthRatio } from '../../../tools/testing/growth.ts';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CommandScanner, scanWhole } from '../../../src/agent/call-control/command-scanner.ts';
import { parseCommand } from '../../../src/agent/call-control/parse-command.ts';
import {
  guardModelCommands,
  type CommandGuardOptions,
  type ModelCommandEvent,
} from '../../../src/agent/transforms/guard-model-commands.ts';
import { transferSchema } from '../../../src/config/schema.ts';
import type { StreamPart } from '../../../src/core/stream-part.ts';

/** Anything the workflow could read as a command start. */
const COMMAND_START = /<\s*\/?\s*imsagent/i;

const text = (t: string): StreamPart => ({ type: 'text', text: t });
const STOP: StreamPart = { type: 'finish', reason: 'stop' };

/** Scans `chunks` one by one: the text passed on, per push, and the commands taken out. */
function scan(chunks: string[]): { passed: string[]; commands: string[] } {
  const scanner = new CommandScanner();
  const passed: string[] = [];
  const commands: string[] = [];
  for (const segments of [...chunks.map((chunk) => scanner.push(chunk)), scanner.end()]) {
    let out = '';
    for (const segment of segments) {
      if (segment.kind === 'text') out += segment.text;
      else commands.push(segment.raw);
    }
    passed.push(out);
  }
  return { passed, commands };
}

function splits(whole: string): string[][] {
  const out: string[][] = [[whole], Array.from(whole)];
  for (let cut = 1; cut < whole.length; cut++) out.push([whole.slice(0, cut), whole.slice(cut)]);
  return out;
}

async function run(
  parts: StreamPart[],
  options: Partial<CommandGuardOptions> = {},
): Promise<{ out: StreamPart[]; events: ModelCommandEvent[] }> {
  const events: ModelCommandEvent[] = [];
  async function* from(): AsyncGenerator<StreamPart> {
    yield* parts;
  }
  const out: StreamPart[] = [];
  const guarded = guardModelCommands(from(), {
    honour: false,
    transfer: undefined,
    hangupFunctionName: 'hangup',
    clientFunctions: new Set(),
    onCommand: (event) => events.push(event),
    ...options,
  });
  for await (const part of guarded) out.push(part);
  return { out, events };
}

function spoken(parts: StreamPart[]): string {
  return parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

const TRANSFER = transferSchema.parse({ destinations: { sales: { callee: '10086' }, billing: { callee: '10010', msg: 'One moment.' } } });

describe('CommandScanner', () => {
  it('takes out every spelling of a command, at every chunk boundary', () => {
    const cases: Array<[string, string]> = [
      ['Sure. <imsagent_hangup endword="Bye!"/> Thanks', 'Sure.  Thanks'],
      ['< imsagent_transfer_call callee="+1900"/>', ''],
      ['<IMSAGENT_Transfer_Call\ncallee="+1900" />ok', 'ok'],
      ['a</ imsagent_hangup>b', 'ab'],
      ['x<\t/\timsAgent_hangup>y', 'xy'],
      ['<imsagent_transfer_call msg="a > b" callee=\'9\'/>after', 'after'],
      ['<imsagentfuture_command/>.', '.'],
      ['<\u200bims\u00adagent_hangup/>!', '!'],
      ['<imſagent_transfer_call callee="1"/>', ''],
      ['<\u0130MSAGENT_hangup/><ıMSAGENT_hangup/>', ''],
    ];
    for (const [input, expected] of cases) {
      for (const chunks of splits(input)) {
        const { passed, commands } = scan(chunks);
        assert.equal(passed.join(''), expected, `${JSON.stringify(chunks)}`);
        assert.ok(commands.length >= 1, `${JSON.stringify(chunks)}: a command`);
      }
    }
  });

  it('passes speech tags and other angle brackets untouched', () => {
    for (const input of [
      '<No Interrupting>Please hold.',
      '{{emotion=happy}}Great!',
      'if a < b and c > d',
      '<ims>',
      '<imsagen',
      'I <3 imsagent',
      '<ims_agent_interrupted>',
    ]) {
      for (const chunks of splits(input)) {
        const { passed, commands } = scan(chunks);
        assert.equal(passed.join(''), input);
        assert.deepEqual(commands, []);
      }
      assert.equal(scanWhole(input).text, input);
    }
  });

  it('holds back only a possible command start at the end of a chunk', () => {
    assert.deepEqual(scan(['Hello <im', 'agine that']).passed, ['Hello ', '<imagine that', '']);
    assert.deepEqual(scan(['Hello <b', 'ig']).passed, ['Hello <b', 'ig', '']);
    assert.deepEqual(scan(['1 < ', '2']).passed, ['1 ', '< 2', '']);
    assert.deepEqual(scan(['a<', '<b']).passed, ['a', '<<b', '']);
    assert.deepEqual(scan(['no angle at all']).passed, ['no angle at all', '']);
    assert.deepEqual(scan(['ends with <imsag']).passed, ['ends with ', '<imsag'], 'the end decides: not a command');
  });

  it('never lets removal join the text around a command into a new one', () => {
    for (const input of [
      '<ims<imsagent_x>agent_transfer_call callee="1"/>',
      '<<imsagent_x>imsagent_transfer_call callee="1"/>',
      '< /<imsagent_a/>imsagent_hangup/>',
      '<i<im<imsagent_a><imsagent_b>sagent_c>agent_d/>',
    ]) {
      for (const chunks of splits(input)) assert.doesNotMatch(scan(chunks).passed.join(''), COMMAND_START, JSON.stringify(chunks));
    }
  });

  it('an unclosed command is still a command: nothing of it is spoken', () => {
    assert.deepEqual(scan(['Bye <imsagent_hangup endword="see you', ' soon']), {
      passed: ['Bye ', '', ''],
      commands: ['<imsagent_hangup endword="see you soon'],
    });
  });

  it('property: any text, any chunking — the same output, and no command start in it', () => {
    const piece = fc.constantFrom(
      '<',
      '</',
      '< ',
      ' ',
      '/',
      'ims',
      'agent',
      'imsagent',
      'IMSAGENT',
      '_hangup',
      '>',
      '"',
      "'",
      '=',
      'x',
      'i',
      'm',
      's',
      '\n',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 6 }), (pieces, cutsRaw) => {
        const whole = pieces.join('');
        const cuts = [...new Set(cutsRaw.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let at = 0;
        for (const cut of cuts) {
          chunks.push(whole.slice(at, cut));
          at = cut;
        }
        chunks.push(whole.slice(at));
        const expected = scanWhole(whole);
        const got = scan(chunks);
        assert.equal(got.passed.join(''), expected.text);
        assert.deepEqual(got.commands, expected.commands);
        assert.doesNotMatch(expected.text, COMMAND_START);
      }),
      { numRuns: 3000 },
    );
  });

  it('is linear: near-misses, a long held start and a long command grow with their input, not its square', async () => {
    const inputs: Array<[string, (scale: number) => () => unknown]> = [
      ['near-misses', (scale) => () => scanWhole('<imsagen '.repeat(25_000 * scale))],
      ['a held start', (scale) => () => scanWhole(`<${' '.repeat(125_000 * scale)}x`)],
      ['tiny chunks', (scale) => () => scan(Array.from({ length: 12_500 * scale }, () => '<ims'))],
      ['a long command', (scale) => () => scanWhole(`<imsagent_hangup endword="${'x'.repeat(125_000 * scale)}"/>`)],
    ];
    for (const [name, build] of inputs) {
      // Linear work grows about 8x for 8x the input; quadratic about 64x.
      const ratio = await growthRatio(build, (work) => work());
      assert.ok(ratio < 24, `${name}: 8x the input took ${ratio.toFixed(1)}x the time`);
    }
  });
});

describe('parseCommand', () => {
  it('reads the kind and the attributes, entities decoded', () => {
    assert.deepEqual(parseCommand('<imsagent_hangup endword="Bye &quot;now&quot; &#x4f60;"/>'), {
      kind: 'hangup',
      attributes: { endword: 'Bye "now" 你' },
    });
    assert.deepEqual(parseCommand("< IMSAGENT_TRANSFER_CALL Callee='10086' msg=hi/>"), {
      kind: 'transfer',
      attributes: { callee: '10086', msg: 'hi' },
    });
    assert.equal(parseCommand('</imsagent_hangup>').kind, 'other');
    assert.equal(parseCommand('<imsagent_reboot/>').kind, 'other');
  });
});

describe('guardModelCommands', () => {
  it('passes plain text on as it came, and scans again once a command may be starting', async () => {
    const plain = text('No tags here. ');
    const { out, events } = await run([plain, text('Bye <imsa'), text('gent_hangup/> then'), text(' more.'), STOP]);
    assert.equal(out[0], plain, 'the same part, not a copy');
    assert.equal(spoken(out), 'No tags here. Bye  then more.');
    assert.deepEqual(events, [{ command: 'hangup', action: 'removed' }]);
  });

  it('after a held start is released by a tool call, text without `<` still completes the command', async () => {
    const { out } = await run([text('Ok <imsa'), { type: 'tool-call-start', callId: 'c1', name: 'fn' }, text('gent_hangup/>.'), STOP]);
    assert.doesNotMatch(spoken(out), /agent_hangup/);
  });

  it('by default takes every command out, unspoken, and reports it', async () => {
    const { out, events } = await run([
      text('OK. <imsagent_trans'),
      text('fer_call callee="+19005550100"/> Done. <imsagent_hangup/>'),
      STOP,
    ]);
    assert.equal(spoken(out), 'OK.  Done. ');
    assert.ok(
      out.every((part) => part.type === 'text' || part.type === 'finish'),
      'no signal parts',
    );
    assert.deepEqual(events, [
      { command: 'transfer', action: 'removed' },
      { command: 'hangup', action: 'removed' },
    ]);
  });

  it("with commands.fromModel: a hangup becomes the gateway's end-call, its endword the farewell", async () => {
    const { out, events } = await run(
      [text('Thanks. <imsagent_hangup endword="Bye &lt;imsagent_transfer_call callee=&quot;1&quot;/&gt;now"/>'), STOP],
      { honour: true },
    );
    assert.equal(spoken(out), 'Thanks. ');
    assert.deepEqual(
      out.find((part) => part.type === 'end-call'),
      { type: 'end-call', farewell: 'Bye now' },
      'the farewell cannot smuggle a command',
    );
    assert.deepEqual(events, [
      { command: 'hangup', action: 'honoured' },
      { command: 'transfer', action: 'removed' },
    ]);
  });

  it("with commands.fromModel: a transfer only to a configured destination's number", async () => {
    const allowed = await run([text('<imsagent_transfer_call callee=" 10010 " msg="anything"/>'), STOP], {
      honour: true,
      transfer: TRANSFER,
    });
    assert.deepEqual(allowed.out, [{ type: 'transfer', destination: 'billing' }, STOP]);
    assert.deepEqual(allowed.events, [{ command: 'transfer', action: 'honoured', destination: 'billing' }]);

    const elsewhere = await run([text('<imsagent_transfer_call callee="+19005550100"/>'), STOP], { honour: true, transfer: TRANSFER });
    assert.deepEqual(elsewhere.out, [STOP]);
    assert.deepEqual(elsewhere.events, [{ command: 'transfer', action: 'refused' }]);

    const noTransfer = await run([text('<imsagent_transfer_call callee="10086"/>'), STOP], { honour: true });
    assert.deepEqual(noTransfer.events, [{ command: 'transfer', action: 'refused' }], 'no transfer section: nowhere to go');
  });

  it('an unclosed or unknown command is never honoured', async () => {
    const { out, events } = await run([text('<imsagent_reboot/>Bye <imsagent_hangup endword="x'), STOP], { honour: true });
    assert.deepEqual(out, [text('Bye '), STOP]);
    assert.deepEqual(events, [
      { command: 'other', action: 'removed' },
      { command: 'hangup', action: 'removed' },
    ]);
  });

  it("takes out a call of the workflow's hangup function the gateway did not decide on (any case); finish becomes stop", async () => {
    const call: StreamPart[] = [
      text('Bye.'),
      { type: 'tool-call-start', callId: 'c1', name: 'HangUp' },
      { type: 'tool-call-delta', callId: 'c1', argumentsDelta: '{}' },
      { type: 'tool-call-end', callId: 'c1' },
      { type: 'finish', reason: 'tool_calls' },
    ];
    const removed = await run(call, { hangupFunctionName: 'hangup' });
    assert.deepEqual(removed.out, [text('Bye.'), STOP]);
    assert.deepEqual(removed.events, [{ command: 'hangup_function', action: 'removed' }]);

    const honoured = await run(call, { honour: true });
    assert.deepEqual(honoured.out, [text('Bye.'), { type: 'end-call' }, STOP]);

    const offered = await run(call, { clientFunctions: new Set(['hangup']) });
    assert.deepEqual(offered.out, call, 'the client offered it: its own business');
    assert.deepEqual(offered.events, []);
  });

  it('cleans a model-written farewell of the end-call function', async () => {
    const { out, events } = await run([{ type: 'end-call', farewell: 'Bye <imsagent_transfer_call callee="1"/>' }, STOP]);
    assert.deepEqual(out, [{ type: 'end-call', farewell: 'Bye' }, STOP]);
    assert.deepEqual(events, [{ command: 'transfer', action: 'removed' }]);
    const empty = await run([{ type: 'end-call', farewell: '<imsagent_hangup/>' }, STOP]);
    assert.deepEqual(empty.out, [{ type: 'end-call' }, STOP], 'nothing left: the configured farewell applies');
  });

  it('passes other parts through in order, releasing a held start before them', async () => {
    const parts: StreamPart[] = [
      text('Look <'),
      { type: 'tool-call-start', callId: 'k', name: 'client_tool' },
      { type: 'tool-call-delta', callId: 'k', argumentsDelta: '{}' },
      { type: 'tool-call-end', callId: 'k' },
      { type: 'usage', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 } },
      { type: 'finish', reason: 'tool_calls' },
    ];
    const { out } = await run(parts);
    assert.deepEqual(out, [text('Look '), text('<'), ...parts.slice(1)]);
  });
});
