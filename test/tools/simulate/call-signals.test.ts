import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hangupCommand, transferCommand } from '../../../src/agent/call-control/ims-commands.ts';
import { callOutcome, detectCallSignals, parseTextCommands, spokenText, unescapeAttribute } from '../../../tools/simulate/call-signals.ts';

describe('call signals the workflow acts on', () => {
  it('hangs up on a tool call named like the FunctionMap, and only that name', () => {
    const calls = [{ name: 'hangup', arguments: '{}', id: 'call_1' }];
    assert.deepEqual(detectCallSignals('Goodbye!', calls), [{ type: 'hangup', via: 'tool-call', functionName: 'hangup', arguments: '{}' }]);
    assert.deepEqual(callOutcome(detectCallSignals('Goodbye!', calls)), { type: 'hangup', via: 'tool-call' });

    const custom = detectCallSignals('', [{ name: 'end_the_call', arguments: '{}' }], 'end_the_call');
    assert.equal(callOutcome(custom).type, 'hangup');
    const other = detectCallSignals('', [{ name: 'hangup', arguments: '{}' }], 'end_the_call');
    assert.deepEqual(other, [{ type: 'ignored-tool-call', functionName: 'hangup', arguments: '{}' }]);
    assert.equal(callOutcome(other).type, 'continues');
  });

  it('reads the hangup text command the gateway writes, endword unescaped', () => {
    const endword = `Bye "friend" & see you <soon>, it's late`;
    const text = `All done. ${hangupCommand(endword)}`;
    const commands = parseTextCommands(text);
    assert.equal(commands.length, 1);
    assert.equal(commands[0]!.command, 'hangup');
    assert.equal(commands[0]!.attributes.endword, endword);
    assert.equal(commands[0]!.index, 'All done. '.length);
    assert.deepEqual(callOutcome(detectCallSignals(text, [])), { type: 'hangup', via: 'text-command', endword });
    assert.equal(spokenText(text), `All done. ${endword}`);
  });

  it('reads the transfer command with all its attributes, and a transfer wins over a hangup', () => {
    const destination = { caller: '05710000', callee: '13900000000', msg: 'Transferring you to "sales" now.', errMsg: 'Sorry & goodbye.' };
    const text = `One moment. ${transferCommand(destination)}`;
    const signals = detectCallSignals(text, [{ name: 'hangup', arguments: '{}' }]);
    assert.deepEqual(signals[0], { type: 'transfer', ...destination });
    assert.deepEqual(callOutcome(signals), { type: 'transfer', ...destination });
    assert.equal(spokenText(text), 'One moment. Transferring you to "sales" now.');
  });

  it('matches commands leniently: letter case, spaces, single quotes, no self-closing slash', () => {
    const commands = parseTextCommands(`< IMSAGENT_HANGUP  EndWord = 'Bye &amp; thanks' >`);
    assert.equal(commands.length, 1);
    assert.deepEqual(commands[0]!.attributes, { endword: 'Bye & thanks' });
    assert.deepEqual(parseTextCommands('<imsagent_hangup/>')[0]!.attributes, {});
    assert.equal(callOutcome(detectCallSignals('<imsagent_hangup/>', [])).type, 'hangup');
    assert.deepEqual(parseTextCommands('an <imsagent_hangup endword="cut off'), [], 'a half-written command is not a command');
    assert.deepEqual(parseTextCommands('plain <b>text</b>'), []);
  });

  it('unescapes named and numeric references and leaves unknown ones alone', () => {
    assert.equal(unescapeAttribute('&lt;&gt;&amp;&quot;&apos;'), `<>&"'`);
    assert.equal(unescapeAttribute('&#39;&#x4F60;&#X597D;'), "'你好");
    assert.equal(unescapeAttribute('&nbsp; &#xZZ; & alone'), '&nbsp; &#xZZ; & alone');
    assert.equal(unescapeAttribute('&amp;lt;'), '&lt;', 'unescaped once, not twice');
  });

  it('lists an answer with no signal as a call that goes on', () => {
    assert.deepEqual(detectCallSignals('Just an answer.', []), []);
    assert.deepEqual(callOutcome([]), { type: 'continues' });
    assert.equal(spokenText('Just an answer.'), 'Just an answer.');
  });
});

describe("another platform's transfer tool call", () => {
  it('transfers to the number in Vapi, ElevenLabs and the app form; other tools stay ignored', () => {
    const signals = (name: string, args: string) => detectCallSignals('', [{ name, arguments: args }], 'endCall', name);
    assert.deepEqual(signals('transferCall', '{"destination":"+16505550100"}'), [{ type: 'transfer', callee: '+16505550100' }]);
    assert.deepEqual(signals('transfer_to_number', '{"transfer_number":"+16505550101"}'), [{ type: 'transfer', callee: '+16505550101' }]);
    assert.deepEqual(signals('transfer_call', '{"callee":"+16505550102"}'), [{ type: 'transfer', callee: '+16505550102' }]);
    assert.deepEqual(signals('transferCall', 'not json'), [{ type: 'transfer' }]);
    assert.deepEqual(callOutcome(signals('transferCall', '{"destination":"+1"}')), { type: 'transfer', callee: '+1' });
    assert.deepEqual(detectCallSignals('', [{ name: 'lookup', arguments: '{}' }], 'endCall', 'transferCall'), [
      { type: 'ignored-tool-call', functionName: 'lookup', arguments: '{}' },
    ]);
  });
});
