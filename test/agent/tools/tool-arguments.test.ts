import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentRegistry } from '../../../src/agent/agent-registry.ts';
import { checkToolArguments } from '../../../src/agent/tools/tool-arguments.ts';
import { ConfigError } from '../../../src/config/config-error.ts';
import { gatewayConfigSchema, httpToolSchema } from '../../../src/config/schema.ts';

const tool = httpToolSchema.parse({
  name: 'lookup_order',
  description: 'Look an order up',
  url: 'http://127.0.0.1:9/orders',
  parameters: {
    type: 'object',
    properties: {
      order: { type: 'string', pattern: '^[0-9]+$' },
      kind: { enum: ['new', 'old'] },
      items: { type: 'array', items: { type: 'integer' } },
    },
    required: ['order'],
  },
});

describe('checkToolArguments', () => {
  it('lets matching arguments through to the endpoint', () => {
    assert.equal(checkToolArguments(tool, '{"order":"123","kind":"new","items":[1,2]}'), undefined);
  });

  it('turns a mismatch into a tool error naming each wrong argument, for the model to correct', () => {
    const result = checkToolArguments(tool, '{"order":123,"kind":"other","items":["x"]}');
    assert.equal(result?.ok, false);
    assert.equal(result?.error, 'invalid_arguments');
    assert.match(result.content, /^Error: the arguments do not match the parameters of lookup_order: /);
    assert.match(result.content, /order: .*string/);
    assert.match(result.content, /kind: .*"new"\|"old"/);
    assert.match(result.content, /items\[0\]: /);
    assert.match(result.content, /Call lookup_order again with corrected arguments\.$/);
  });

  it('reports a missing required argument; empty arguments count as {}', () => {
    assert.match(checkToolArguments(tool, '')!.content, /order: /);
  });

  it('leaves arguments that are not JSON to the tool runner', () => {
    assert.equal(checkToolArguments(tool, '{"order":'), undefined);
  });

  it('a schema that cannot be used is a config error at startup', () => {
    const config = gatewayConfigSchema.parse({
      providers: { s: { type: 'scripted' } },
      agents: { a: { provider: 's', tools: [{ ...tool, parameters: { type: 'object', properties: { x: { $ref: '#/nowhere' } } } }] } },
    });
    assert.throws(
      () => new AgentRegistry(config),
      (error: unknown) => error instanceof ConfigError && /tools\[0\]\.parameters: not a usable JSON Schema/.test(error.message),
    );
  });
});
