import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hangupCommand, transferCommand } from '../../src/agent/call-control/ims-commands.ts';

describe('IMS text commands', () => {
  it('escapes attribute values so no quote or bracket can break the command', () => {
    assert.equal(
      hangupCommand(`Bye "friend" <3 & 'ciao'`),
      '<imsagent_hangup endword="Bye &quot;friend&quot; &lt;3 &amp; &apos;ciao&apos;"/>',
    );
  });
  it('writes only the transfer attributes that are set, in the documented names', () => {
    assert.equal(transferCommand({ callee: '10086' }), '<imsagent_transfer_call callee="10086"/>');
    assert.equal(
      transferCommand({ callee: '1', caller: '2', msg: '转接中', errMsg: 'x"y' }),
      '<imsagent_transfer_call caller="2" callee="1" msg="转接中" err_msg="x&quot;y"/>',
    );
  });
});
