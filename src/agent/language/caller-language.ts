/** The language the gateway speaks and writes its own words in (apologies, notes to the model, ...). */
export type CallerLanguage = 'zh' | 'en';

/** An agent's `language`: fixed, or `auto` (the caller's, decided each turn). */
export type AgentLanguage = CallerLanguage | 'auto';

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/u;

/** Chinese when the caller's words have Chinese characters, else English. */
export function callerLanguage(lastUserText: string): CallerLanguage {
  return CJK.test(lastUserText) ? 'zh' : 'en';
}

/** The language of one turn: the agent's, or with `auto` the one of the caller's last message. */
export function turnLanguage(setting: AgentLanguage, lastUserText: string): CallerLanguage {
  return setting === 'auto' ? callerLanguage(lastUserText) : setting;
}
