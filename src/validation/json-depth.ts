/**
 * How deeply a parsed JSON value nests, counted without recursion: JSON.parse accepts any depth,
 * but JSON.stringify and other recursive walks overflow the stack on a few thousand levels.
 */
export function exceedsJsonDepth(value: unknown, maxDepth: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== 'object') continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}
