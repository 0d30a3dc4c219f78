import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';

const RUNTIME = resolve(import.meta.dirname, '../../bin/node-runtime.js');

/**
 * A Node.js on this machine too old to run the gateway itself (the machine's Node 20, say), which
 * the launchers must hand over to the pinned Node.js 24; undefined when there is none. "Too old" is
 * decided by the launchers' own rule (bin/node-runtime.js), run on that Node.
 */
export function findOldNode(): string | undefined {
  const listed = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout ?? '';
  const candidates = new Set<string>();
  for (const path of [...listed.split('\n'), '/usr/bin/node', '/usr/local/bin/node']) {
    try {
      if (path.trim()) candidates.add(realpathSync(path.trim()));
    } catch {
      // not there
    }
  }
  for (const node of candidates) {
    const probe = spawnSync(
      node,
      ['--input-type=module', '-e', `import(${JSON.stringify(RUNTIME)}).then((m) => process.stdout.write(String(m.runsHere())))`],
      {
        encoding: 'utf8',
      },
    );
    if (probe.status === 0 && probe.stdout === 'false') return node;
  }
  return undefined;
}
