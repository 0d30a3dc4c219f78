import type { CallerLanguage } from './caller-language.ts';

/**
 * Every phrase the gateway says to the caller or writes to the model for itself, per language:
 * one catalog, so a language is added or reworded in one place. A text the operator configured
 * (`onFailure.message`, `endCall.farewell`, ...) always wins over these defaults.
 */
export interface Phrases {
  /** Said when every provider failed before a word (`onFailure.message` replaces it). */
  apology: string;
  /** One is said when the answer is slow to start (`filler.phrases` replaces them). */
  filler: readonly string[];
  /** Said when a call ends in a turn that said nothing (`endCall.farewell` replaces it). */
  farewell: string;
  /** Said when the answer ends on code that is not read out (`speech.codeFallback` replaces it). */
  codeFallback: string;
  /** Told the model, as a system message, after an answer the caller cut off. */
  interruptionNote: string;
  /** Told the model, as a system message, when the caller has been silent and the platform asks for words (Retell's reminder). */
  silenceNote: string;
  /** Starts a system note turned into a user message (`history.mergeConsecutiveRoles`). */
  notePrefix: string;
  /** The end-call function's description (`endCall.description` replaces it). */
  endCallDescription: string;
  /** Its `farewell` argument. */
  farewellArgument: string;
  /** The transfer function's description (`transfer.description` replaces it). */
  transferDescription: string;
  /** Appended to the transfer description when there are several destinations. */
  destinations: (choices: readonly string[]) => string;
  /** A destination and what it is for, in that list. */
  destinationChoice: (name: string, description: string) => string;
  /** The transfer function's `destination` argument. */
  destinationArgument: string;
  /** The keypad function's description, for a platform that presses several keys at once (`pressDigits.description` replaces it). */
  pressDigitsDescription: string;
  /** The same, for a platform that presses one key per answer. */
  pressKeyDescription: string;
  /** Its `digits` argument; `pauses`: `w` is understood. */
  digitsArgument: (pauses: boolean) => string;
}

const EN: Phrases = {
  apology: "Sorry, I'm having trouble answering right now. Could you say that again in a moment?",
  filler: ['One moment.', 'Let me see.', 'Just a second.'],
  farewell: 'Goodbye, thanks for calling.',
  codeFallback: "That part is code, which I can't read out well on a call.",
  interruptionNote: '(The caller interrupted your previous answer at this point and did not hear the rest. Do not repeat it unless asked.)',
  silenceNote: '(The caller has said nothing for a while. Say something short to keep the conversation going.)',
  notePrefix: '[Note] ',
  endCallDescription: 'End the phone call. Call this once the conversation is over or the caller says goodbye.',
  farewellArgument: "A short goodbye in the caller's language. Leave it out if you already said goodbye.",
  transferDescription: 'Transfer the call to a human. Call this when the caller asks for a person or you cannot help.',
  destinations: (choices) => ` Destinations: ${choices.join('; ')}.`,
  destinationChoice: (name, description) => `${name}: ${description}`,
  destinationArgument: 'Where to transfer the call.',
  pressDigitsDescription:
    'Press keys on the phone keypad, e.g. to choose from a phone menu ("press 1 for sales") or enter a number it asks for. The keys are pressed after what you say in this answer.',
  pressKeyDescription:
    'Press one key on the phone keypad, e.g. to choose from a phone menu ("press 1 for sales"). One key per answer; it is pressed after what you say in this answer.',
  digitsArgument: (pauses) => (pauses ? 'The keys: digits 0-9, * and #; w waits half a second.' : 'The keys: digits 0-9, * and #.'),
};

const ZH: Phrases = {
  apology: '抱歉，我这边暂时出了点问题，请您稍后再说一遍。',
  filler: ['请稍等。', '我看一下。', '稍等一下。'],
  farewell: '感谢您的来电，再见。',
  codeFallback: '这部分是代码，电话里不方便念出来。',
  interruptionNote: '（来电者在此处打断了你之前的回答，没有听到后面的内容。除非被问到，不要重复。）',
  silenceNote: '（来电者有一会儿没说话了。请简短地说一句，让对话继续下去。）',
  notePrefix: '【提示】',
  endCallDescription: '结束通话。对话已经结束，或来电者道别时调用。',
  farewellArgument: '用来电者的语言说的简短告别语。如果已经道别，就不要填。',
  transferDescription: '把通话转给人工。来电者要求找人工，或你无法帮忙时调用。',
  destinations: (choices) => `可转接的去向：${choices.join('；')}。`,
  destinationChoice: (name, description) => `${name}：${description}`,
  destinationArgument: '把通话转到哪里。',
  pressDigitsDescription: '按电话键盘上的键，例如在语音菜单中选择（“销售请按1”），或输入对方要求的号码。这些键会在你这次回答说完后按下。',
  pressKeyDescription: '按电话键盘上的一个键，例如在语音菜单中选择（“销售请按1”）。每次回答只能按一个键，在你这次回答说完后按下。',
  digitsArgument: (pauses) => (pauses ? '要按的键：数字0-9、*和#；w表示等待半秒。' : '要按的键：数字0-9、*和#。'),
};

export const PHRASES: Readonly<Record<CallerLanguage, Phrases>> = { en: EN, zh: ZH };
