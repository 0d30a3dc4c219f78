import Mustache from 'mustache';

/** Logic-less Mustache: no code runs, a missing variable renders empty, nothing is HTML-escaped. */
const RENDER_OPTIONS = { escape: (value: unknown): string => String(value) };

export function renderTemplate(template: string, view: object): string {
  return Mustache.render(template, view, undefined, RENDER_OPTIONS);
}

/** Throws a readable error for a template that does not parse (checked at startup). */
export function checkTemplate(template: string): void {
  Mustache.parse(template);
}
