/** The language the gateway speaks its own phrases in (apologies, fillers): the caller's. */
export type CallerLanguage = 'zh' | 'en';

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/u;

export function callerLanguage(lastUserText: string): CallerLanguage {
  return CJK.test(lastUserText) ? 'zh' : 'en';
}

/** The gateway's own phrases, per language. */
export const PHRASES = {
  apology: {
    en: "Sorry, I'm having trouble answering right now. Could you say that again in a moment?",
    zh: '抱歉，我这边暂时出了点问题，请您稍后再说一遍。',
  },
  filler: {
    en: ['One moment.', 'Let me see.', 'Just a second.'],
    zh: ['请稍等。', '我看一下。', '稍等一下。'],
  },
} as const;
