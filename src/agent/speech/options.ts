/** How an agent wants its answers shaped for speech (agent config `speech`, caller language). */

import { SPEECH_WORDS, type SpeechLanguage, type SpeechWords } from './words.ts';

export type UrlMode = 'host' | 'drop';

export interface SpeechShapeOptions {
  /** The language of the spoken words ("times" / "乘以"). Default 'en'. */
  language?: SpeechLanguage;
  /** A bare URL: say its host, or drop it. Default 'host'. */
  urls?: UrlMode;
  /** Said when the answer ends on code that was not read out; '' for nothing. Default by language. */
  codeFallback?: string;
}

export interface ResolvedSpeechOptions {
  language: SpeechLanguage;
  words: SpeechWords;
  urls: UrlMode;
  codeFallback: string;
}

export function resolveSpeechOptions(options: SpeechShapeOptions = {}): ResolvedSpeechOptions {
  const language = options.language ?? 'en';
  const words = SPEECH_WORDS[language];
  return { language, words, urls: options.urls ?? 'host', codeFallback: options.codeFallback ?? words.codeFallback };
}
