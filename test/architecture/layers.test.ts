import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

// The layering rules, checked on the import statements themselves: src/ (what runs in production)
// never reaches into tools/ or test/, and its folders import each other without cycles, so each one
// can be read, tested and changed standing only on those below it.

const ROOT = resolve(import.meta.dirname, '../..');

interface Edge {
  from: string;
  to: string;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/** Static imports and re-exports (`... from '…'`, `import '…'`) and dynamic `import('…')`. */
const IMPORT = /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** Every relative import of the files under `folder`, as repository paths. */
function importEdges(folder: string): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(folder)) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3]!;
      if (!specifier.startsWith('.')) continue;
      edges.push({
        from: file,
        to: relative(ROOT, resolve(ROOT, dirname(file), specifier))
          .split(sep)
          .join('/'),
      });
    }
  }
  return edges;
}

/**
 * The two sibling entries of a folder through which `from` reaches `to` (the first parts of their
 * paths that differ), when they are folders; at the top of src/ files count too (gateway.ts).
 */
function siblingFolders(from: string, to: string): [string, string] | undefined {
  const a = from.split('/');
  const b = to.split('/');
  let depth = 0;
  while (depth < a.length - 1 && depth < b.length - 1 && a[depth] === b[depth]) depth++;
  const folders = depth < a.length - 1 && depth < b.length - 1;
  if (!folders && depth > 1) return undefined;
  return [a.slice(0, depth + 1).join('/'), b.slice(0, depth + 1).join('/')];
}

/** The strongly connected components with more than one folder (Tarjan): each one is a cycle. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

describe('architecture', () => {
  const srcEdges = importEdges('src');

  it('src/ imports nothing from tools/, bench/ or test/ (nothing outside src/)', () => {
    const outside = srcEdges.filter((edge) => !edge.to.startsWith('src/')).map((edge) => `${edge.from} imports ${edge.to}`);
    assert.deepEqual(outside, [], `production code must not depend on the tools or the tests:\n${outside.join('\n')}`);
  });

  it('tools/ imports nothing from test/', () => {
    const intoTests = importEdges('tools')
      .filter((edge) => edge.to.startsWith('test/'))
      .map((edge) => `${edge.from} imports ${edge.to}`);
    assert.deepEqual(intoTests, [], intoTests.join('\n'));
  });

  it('the folders of src/ (and the subfolders of each) import each other without cycles', () => {
    const graph = new Map<string, Set<string>>();
    /** One file-level import for each folder-level edge, to show where a cycle comes from. */
    const example = new Map<string, string>();
    for (const edge of srcEdges) {
      const pair = siblingFolders(edge.from, edge.to);
      if (pair === undefined || pair[0] === pair[1]) continue;
      const [from, to] = pair;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
      if (!example.has(`${from} -> ${to}`)) example.set(`${from} -> ${to}`, `${edge.from} imports ${edge.to}`);
    }
    const found = cycles(graph).map((component) => {
      const inside = new Set(component);
      const edges = [...example].filter(([key]) => {
        const [from, to] = key.split(' -> ');
        return inside.has(from!) && inside.has(to!);
      });
      return `${component.join(' <-> ')}:\n${edges.map(([key, where]) => `  ${key} (e.g. ${where})`).join('\n')}`;
    });
    assert.deepEqual(found, [], `folder cycles under src/:\n${found.join('\n')}`);
  });

  // The shared vocabulary (stream parts, chat types, the error type) sits below every layer.
  it('src/core/ imports nothing but Node.js built-ins', () => {
    const imports = srcEdges.filter((edge) => edge.from.startsWith('src/core/') && !edge.to.startsWith('src/core/'));
    assert.deepEqual(
      imports.map((edge) => `${edge.from} imports ${edge.to}`),
      [],
    );
    const packages = sourceFiles('src/core').filter((file) => /\bfrom\s*['"](?!\.|node:)/.test(readFileSync(join(ROOT, file), 'utf8')));
    assert.deepEqual(packages, [], 'src/core/ uses no package');
  });

  // A file name means one thing: two files of the same name in different folders are read as the
  // same concept. Entry points (`main.ts`) are the one exception: each folder may have its own.
  it('no two files under src/ and tools/ share a name, entry points aside', () => {
    const byName = new Map<string, string[]>();
    for (const file of [...sourceFiles('src'), ...sourceFiles('tools')]) {
      const name = file.slice(file.lastIndexOf('/') + 1);
      if (name === 'main.ts') continue;
      byName.set(name, [...(byName.get(name) ?? []), file]);
    }
    const repeated = [...byName.values()].filter((files) => files.length > 1);
    assert.deepEqual(repeated, [], 'rename one of each pair so its name says what it is');
  });
});
