import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanEnv, killGroup, waitForBanner } from '../support/cli-process.ts';
import { findOldNode } from '../support/old-node.ts';

/**
 * The package as users get it outside a checkout: `npm pack` (prepack builds dist/), then
 * `npm install -g` of the tarball into a scratch prefix, then the installed command. Node.js strips
 * no types under node_modules, so this runs only if the build to JavaScript is complete.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const NPM = spawnSync('npm', ['--version']).status === 0;
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; files: string[] };

function npm(args: string[], cwd: string): string {
  const result = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.status, 0, `npm ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('the packed package installed with npm install -g', { skip: !NPM && 'npm is not on PATH', timeout: 180_000 }, () => {
  let scratch: string;
  let tarball: string;
  let prefix: string;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'vlg-package-'));
    // What `npm pack` reads and builds from, without writing dist/ into the checkout.
    const source = join(scratch, 'source');
    for (const entry of [
      ...manifest.files,
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
      'tools',
      'README.md',
      'LICENSE',
    ]) {
      if (entry !== 'dist/') cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules')); // the build's TypeScript
    npm(['pack', '--pack-destination', scratch], source);
    tarball = join(scratch, readdirSync(scratch).find((name) => name.endsWith('.tgz'))!);
    prefix = join(scratch, 'global');
    // --prefer-offline: the packages `npm ci` just fetched come from npm's cache.
    npm(['install', '--global', '--prefix', prefix, '--prefer-offline', tarball], scratch);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('ships the built JavaScript and what the README names, not the sources or tests', () => {
    const listed = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
    for (const file of [
      'dist/tools/cli/main.js',
      'dist/src/cli/main.js',
      'dist/src/store/sqlite-worker.js',
      'bin/voice-llm-gateway.js',
      'bin/node-runtime.js',
      'config.example.yaml',
      'README.md',
      'LICENSE',
    ]) {
      assert.ok(listed.includes(`package/${file}`), `${file} is in the package`);
    }
    assert.deepEqual(
      listed.filter((file) => /^package\/(src|test|bench)\//.test(file) || file.endsWith('.ts')),
      [],
    );
  });

  it('voice-llm-gateway --help runs from the install, also on an old Node.js', () => {
    const help = spawnSync(join(prefix, 'bin', 'voice-llm-gateway'), ['--help'], { env: cleanEnv(), encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: voice-llm-gateway <command>/);
    const oldNode = findOldNode();
    if (oldNode === undefined) return;
    const installed = join(prefix, 'lib', 'node_modules', manifest.name, 'bin', 'voice-llm-gateway.js');
    const old = spawnSync(oldNode, [installed, 'simulate', '--help'], { env: cleanEnv(), encoding: 'utf8' });
    assert.equal(old.status, 0, old.stderr);
    assert.match(old.stdout, /^Usage: voice-llm-gateway simulate/);
  });

  it('serves /healthz from a folder of its own and stops with 0 on SIGTERM', async () => {
    const cwd = join(scratch, 'run');
    mkdirSync(cwd);
    const child = spawn(join(prefix, 'bin', 'voice-llm-gateway'), ['serve', '--port', '0', '--host', '127.0.0.1'], {
      cwd,
      env: cleanEnv(),
      detached: true,
    });
    const exit = once(child, 'exit');
    try {
      const { url, output } = await waitForBanner(child);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      assert.ok(existsSync(join(cwd, 'data', 'api-key')), 'the data folder is where it runs, not in the install');
      child.kill('SIGTERM');
      const [code] = await exit;
      assert.equal(code, 0, output());
    } finally {
      killGroup(child);
    }
  });
});
