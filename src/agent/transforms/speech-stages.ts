import type { AgentConfig } from '../../config/schema.ts';
import type { PartTransform, StreamPart } from '../../providers/stream-part.ts';
import type { CallerLanguage } from '../language/caller-language.ts';
import { applyPronunciations } from './apply-pronunciations.ts';
import { readDigits } from './read-digits.ts';
import { shapeSpeech } from './shape-speech.ts';

/**
 * What an agent's answer goes through to be spoken right: speech shaping ▸ pronunciations ▸
 * digits, each only when configured; undefined when none is. The same stages speak the texts
 * the gateway adds after them (farewells, endword, transfer messages), through `spokenText`.
 */
export function speechStages(speech: AgentConfig['speech'], language: CallerLanguage): PartTransform | undefined {
  const stages: PartTransform[] = [];
  if (speech.enabled) {
    const { urls, codeFallback } = speech;
    const options = { language, urls, ...(codeFallback !== undefined ? { codeFallback } : {}) };
    stages.push((parts) => shapeSpeech(parts, options));
  }
  if (speech.pronunciations.length > 0) stages.push((parts) => applyPronunciations(parts, speech.pronunciations));
  if (speech.readDigits.enabled) {
    const options = { minDigits: speech.readDigits.minDigits, language };
    stages.push((parts) => readDigits(parts, options));
  }
  if (stages.length === 0) return undefined;
  return (parts) => stages.reduce((stream, stage) => stage(stream), parts);
}

/** A complete text as the caller hears it: the stages run over a stream of that one text. */
export async function spokenText(stages: PartTransform | undefined, text: string): Promise<string> {
  if (stages === undefined) return text;
  let spoken = '';
  for await (const part of stages(only({ type: 'text', text }))) if (part.type === 'text') spoken += part.text;
  return spoken;
}

async function* only(part: StreamPart): AsyncGenerator<StreamPart> {
  yield part;
}
