import type { AgentConfig } from '../../config/schema.ts';
import { pipe, stage, stageList } from '../../core/pipe.ts';
import type { PartTransform, StreamPart } from '../../core/stream-part.ts';
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
  const { urls, codeFallback, pronunciations, readDigits: digits } = speech;
  const shaping = { language, urls, ...(codeFallback !== undefined ? { codeFallback } : {}) };
  const stages = stageList(
    speech.enabled && stage('speech shaping', (parts) => shapeSpeech(parts, shaping)),
    pronunciations.length > 0 && stage('pronunciations', (parts) => applyPronunciations(parts, pronunciations)),
    digits.enabled && stage('digits', (parts) => readDigits(parts, { minDigits: digits.minDigits, language })),
  );
  if (stages.length === 0) return undefined;
  return (parts) => pipe(parts, stages);
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
