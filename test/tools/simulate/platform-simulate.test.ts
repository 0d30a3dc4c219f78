import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoConfigSource } from '../../../src/config/demo-config.ts';
import type { ConversationReport } from '../../../tools/simulate/run-script.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../../support/gateway-harness.ts';
import { simulateCommand } from '../../support/run-simulate.ts';

describe('voice-llm-gateway simulate --platform against the real gateway (demo agent)', () => {
  let gateway: TestGateway;
  let dir: string;
  let script: string;
  before(async () => {
    gateway = await startTestGateway(structuredClone(demoConfigSource) as Record<string, unknown>);
    dir = mkdtempSync(join(tmpdir(), 'vlg-simulate-platform-'));
    script = join(dir, 'call.yaml');
    writeFileSync(
      script,
      [
        "caller: '+16505550199'",
        'userData: { customerName: Ada }',
        'turns:',
        '  - say: hello',
        '    expect: { contains: connection works, hangup: false }',
        '  - say: ok, bye',
        '    expect: { hangup: true }',
        '  - say: never said',
      ].join('\n'),
    );
  });
  after(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = simulateCommand;

  it('holds a Vapi call on /vapi/v1 in its shape until Vapi hangs up on endCall', async () => {
    const requests: string[] = [];
    const { output, error } = await run([
      '--platform',
      'vapi',
      '--base-url',
      gateway.url,
      '--api-key',
      TEST_KEY,
      '--model',
      'demo',
      '--script',
      script,
      '--json',
      '--show-requests',
    ]);
    for (const line of error.split('\n')) if (line.startsWith('request: ')) requests.push(line.slice('request: '.length));
    const report = JSON.parse(output) as ConversationReport;
    assert.equal(report.platform, 'vapi');
    assert.equal(report.turns.length, 2);
    assert.deepEqual(
      report.turns.map((t) => t.status),
      [200, 200],
    );
    assert.equal(report.turns[0]!.outcome.type, 'continues');
    assert.deepEqual(
      report.turns[1]!.signals.map((s) => s.type),
      ['hangup'],
    );
    assert.equal(report.turns[1]!.toolCalls[0]?.name, 'endCall');
    assert.deepEqual(report.ended, { type: 'hangup', via: 'tool-call', turn: 2 });
    assert.deepEqual(report.notRun, [{ turn: 3, say: 'never said' }]);
    const first = JSON.parse(requests[0]!) as Record<string, unknown>;
    assert.deepEqual(first.customer, { number: '+16505550199' });
    assert.deepEqual(first.metadata, { customerName: 'Ada' });
    assert.equal(first.extendData, undefined);
  });

  it('says in words that the platform hangs up', async () => {
    const { output } = await run([
      '--platform',
      'elevenlabs',
      '--base-url',
      gateway.url,
      '--api-key',
      TEST_KEY,
      '--model',
      'demo',
      '--script',
      script,
    ]);
    assert.match(output, /elevenlabs hangs up at turn 2/);
    assert.match(output, /tool call end_call/);
  });

  it('refuses a platform it does not know', async () => {
    const { code, error } = await run(['--platform', 'skype', '--base-url', gateway.url, '--api-key', TEST_KEY, '--model', 'demo']);
    assert.equal(code, 2);
    assert.match(error, /--platform must be one of ims, vapi/);
  });
});
