import Mustache from 'mustache';
import { closestName } from '../../text/did-you-mean.ts';
import { TEMPLATE_VARIABLES } from './template-view.ts';

export interface UnknownVariable {
  name: string;
  /** The known variable it is probably a misspelling of. */
  suggestion?: string;
}

/**
 * Variables a template names that no call can fill (a misspelt `{{callerNumer}}` renders empty on
 * every call). Known: the view's variables (any path under `userData.` and `query.`, which come from
 * the call) and the agent's declared `variables`. Names inside sections are left alone: they may
 * be the section's own fields.
 */
export function unknownTemplateVariables(template: string, declared: Iterable<string>): UnknownVariable[] {
  const roots = new Set<string>(TEMPLATE_VARIABLES);
  for (const name of declared) roots.add(name.split('.')[0]!);
  const unknown = new Map<string, UnknownVariable>();
  for (const token of Mustache.parse(template)) {
    const [kind, name] = token;
    if (!['name', '&', '{', '#', '^'].includes(kind) || name === '.') continue;
    const root = name.split('.')[0]!;
    if (roots.has(root) || unknown.has(name)) continue;
    const suggestion = closestName(root, roots);
    unknown.set(name, suggestion === undefined ? { name } : { name, suggestion: suggestion + name.slice(root.length) });
  }
  return [...unknown.values()];
}

/** A config problem line for an unknown variable, with the likely fix. */
export function describeUnknownVariable(variable: UnknownVariable): string {
  const fix = variable.suggestion === undefined ? '' : ` (did you mean {{${variable.suggestion}}}?)`;
  return `unknown template variable {{${variable.name}}}${fix}: it would render empty on every call; known: ${TEMPLATE_VARIABLES.join(', ')}, userData.*, query.*, or declare it under variables`;
}
