import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configWarnings } from '../../src/config/config-warnings.ts';
import { parseConfig } from '../../src/config/load-config.ts';

const base = {
  providers: { mock: { type: 'scripted', rules: [] } },
  agents: { support: { provider: 'mock' } },
};

const parse = (extra: Record<string, unknown>) => parseConfig({ ...base, ...extra }, {}, 'test config');

function problems(extra: Record<string, unknown>): string {
  try {
    parse(extra);
  } catch (error) {
    return String((error as Error & { problems?: string[] }).problems ?? (error as Error).message);
  }
  assert.fail('the config was accepted');
}

describe('the platforms section', () => {
  it('is off unless configured', () => {
    assert.deepEqual(parse({}).platforms, {});
  });

  it('takes Retell and Twilio with their defaults', () => {
    const { platforms } = parse({
      platforms: { retell: { secret: 'retell-secret-0123456789', agent: 'support' }, twilio: { agent: 'support' } },
    });
    assert.deepEqual(platforms.retell, { secret: 'retell-secret-0123456789', agent: 'support', greeting: '', allowFrom: [] });
    assert.deepEqual(platforms.twilio, {
      agent: 'support',
      languageSwitch: true,
      languages: {
        zh: { ttsLanguage: 'zh-CN', transcriptionLanguage: 'zh-CN' },
        en: { ttsLanguage: 'en-US', transcriptionLanguage: 'en-US' },
      },
    });
  });

  it('needs an agent that exists, or defaultAgent', () => {
    assert.match(problems({ platforms: { retell: { secret: 'retell-secret-0123456789' } } }), /platforms\.retell\.agent/);
    assert.match(problems({ platforms: { twilio: { agent: 'nobody' } } }), /unknown agent "nobody"/);
    assert.equal(parse({ defaultAgent: 'support', platforms: { twilio: {} } }).platforms.twilio?.agent, undefined);
  });

  it('refuses a secret that cannot sit in a URL path, an allowFrom entry that is no address, a publicUrl that is no ws(s) URL', () => {
    assert.match(problems({ platforms: { retell: { secret: 'a/b', agent: 'support' } } }), /platforms\.retell\.secret/);
    assert.match(
      problems({ platforms: { retell: { secret: 'retell-secret-0123456789', agent: 'support', allowFrom: ['100.20.5.0/33'] } } }),
      /allowFrom/,
    );
    assert.match(problems({ platforms: { twilio: { agent: 'support', publicUrl: 'https://voice.example.com/twilio' } } }), /publicUrl/);
  });

  it('warns of a short Retell secret and of a Twilio socket without an Auth Token, never quoting the secret', () => {
    const warnings = configWarnings(parse({ platforms: { retell: { secret: 'short', agent: 'support' }, twilio: { agent: 'support' } } }));
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /platforms\.retell\.secret/);
    assert.match(warnings[1]!, /platforms\.twilio: no authToken/);
    assert.ok(!warnings.join('\n').includes('short'));
  });
});
