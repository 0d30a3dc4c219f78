import { callerLanguage, type AgentLanguage, type CallerLanguage } from '../../../agent/language/caller-language.ts';
import type { TwilioLanguageEvent } from './twilio-messages.ts';

/** The ConversationRelay codes each language the gateway detects switches the session to. */
export type TwilioLanguageCodes = Readonly<Record<CallerLanguage, { ttsLanguage: string; transcriptionLanguage: string }>>;

/**
 * Follows the caller's language for an agent whose language is `auto`: when the caller's words
 * are in another language than the session speaks and transcribes, the `language` message that
 * switches it, once per change. The session starts in the language Twilio's prompts report
 * (`lang`); one the gateway does not detect (neither Chinese nor English) is never switched away
 * from, since "not Chinese" is all the detection could say of it.
 */
export class LanguageFollower {
  private readonly codes: TwilioLanguageCodes;
  /** The session's language: unknown until a prompt reports it or a switch sets it. */
  private current: CallerLanguage | 'other' | undefined;
  private switched = false;

  constructor(codes: TwilioLanguageCodes) {
    this.codes = codes;
  }

  /**
   * The caller's words of one prompt, with the `lang` Twilio transcribed them in: the switch to
   * send before the answer, if the caller changed language.
   */
  follow(words: string, lang: string | undefined, setting: AgentLanguage): TwilioLanguageEvent | undefined {
    // Until the gateway switches, Twilio's `lang` is the session's; after, a prompt still in flight may lag behind.
    if (!this.switched && lang !== undefined) this.current = this.languageOf(lang);
    if (setting !== 'auto' || this.current === 'other') return undefined;
    const language = callerLanguage(words);
    if (language === this.current) return undefined;
    this.current = language;
    this.switched = true;
    return { type: 'language', ...this.codes[language] };
  }

  /** A ConversationRelay language code as one the gateway detects: a configured code, or by its language subtag. */
  private languageOf(code: string): CallerLanguage | 'other' {
    const lower = code.toLowerCase();
    for (const language of ['zh', 'en'] as const) {
      if (this.codes[language].transcriptionLanguage.toLowerCase() === lower) return language;
    }
    const subtag = lower.split(/[-_]/)[0];
    if (subtag === 'zh' || subtag === 'cmn' || subtag === 'yue') return 'zh';
    return subtag === 'en' ? 'en' : 'other';
  }
}
