import type { z } from 'zod';

/** A path pattern in the config: key names, `*` for any name (records), `[]` for any index. */
export type KeyPattern = readonly string[];

interface SchemaDef {
  type: string;
  shape?: Record<string, SchemaNode>;
  innerType?: SchemaNode;
  valueType?: SchemaNode;
  element?: SchemaNode;
  options?: readonly SchemaNode[];
  in?: SchemaNode;
}
interface SchemaNode {
  _zod: { def: SchemaDef };
}

/** The schemas a node stands for once wrappers (default, optional, union...) are looked through. */
function unwrap(node: SchemaNode): SchemaNode[] {
  const def = node._zod.def;
  if (def.innerType) return unwrap(def.innerType);
  if (def.in) return unwrap(def.in);
  if (def.options) return def.options.flatMap(unwrap);
  return [node];
}

function children(node: SchemaNode): Array<[string, SchemaNode]> {
  const def = node._zod.def;
  if (def.shape) return Object.entries(def.shape);
  if (def.type === 'record' && def.valueType) return [['*', def.valueType]];
  if (def.type === 'array' && def.element) return [['[]', def.element]];
  return [];
}

/** The keys an object at `path` (a concrete config path) may have; empty when it is not an object. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): Set<string> {
  let nodes = unwrap(schema as unknown as SchemaNode);
  for (const segment of path) {
    const step = typeof segment === 'number' ? '[]' : String(segment);
    nodes = nodes.flatMap((node) =>
      children(node)
        .filter(([name]) => name === step || (name === '*' && step !== '[]'))
        .flatMap(([, child]) => unwrap(child)),
    );
  }
  const keys = new Set<string>();
  for (const node of nodes) if (node._zod.def.shape) for (const key of Object.keys(node._zod.def.shape)) keys.add(key);
  return keys;
}

/** Every place in the schema where `key` is a valid key, as path patterns ending in the key. */
export function keyLocations(schema: z.ZodType, key: string): KeyPattern[] {
  const found: KeyPattern[] = [];
  const visit = (node: SchemaNode, path: string[]) => {
    if (path.length > 8) return;
    for (const unwrapped of unwrap(node)) {
      for (const [name, child] of children(unwrapped)) {
        if (name === key) found.push([...path, name]);
        visit(child, [...path, name]);
      }
    }
  };
  visit(schema as unknown as SchemaNode, []);
  return found;
}
