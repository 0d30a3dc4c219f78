import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bannerLines } from '../../src/cli/banner.ts';
import { demoConfig } from '../../src/config/demo-config.ts';

describe('banner', () => {
  it('says the gateway listens on every interface when bound to 0.0.0.0, and the local URL', () => {
    const lines = bannerLines({
      loaded: {
        config: demoConfig(),
        source: 'file',
        path: '/etc/vlg/config.yaml',
        searched: '/srv',
        warnings: ['UPSTREAM_MODEL is set but ignored'],
      },
      host: '0.0.0.0',
      port: 8083,
      url: 'http://127.0.0.1:8083',
      generated: undefined,
      generatedAdmin: undefined,
      toTerminal: false,
    }).join('\n');
    assert.match(lines, /listening on 0\.0\.0\.0:8083 \(all interfaces\); clients on this machine: http:\/\/127\.0\.0\.1:8083\/v1/);
    assert.match(lines, /Config: \/etc\/vlg\/config\.yaml/);
    assert.match(lines, /Warning: UPSTREAM_MODEL is set but ignored/);
    assert.doesNotMatch(lines, /DEMO/);
  });

  it('shows a generated key only once, to a terminal; otherwise only where it is kept', () => {
    const generated = { key: 'vlg-secret-key-0123456789', file: 'data/api-key', createdNow: true };
    const facts = {
      loaded: { config: demoConfig(), source: 'demo' as const, searched: '/srv', warnings: [] },
      host: '127.0.0.1',
      port: 8083,
      url: 'http://127.0.0.1:8083',
      generated,
      generatedAdmin: undefined,
    };
    assert.match(bannerLines({ ...facts, toTerminal: true }).join('\n'), /API key: vlg-secret-key-0123456789/);
    assert.doesNotMatch(bannerLines({ ...facts, toTerminal: false }).join('\n'), /vlg-secret-key/);
    assert.doesNotMatch(
      bannerLines({ ...facts, toTerminal: true, generated: { ...generated, createdNow: false } }).join('\n'),
      /vlg-secret-key/,
    );
  });
});
