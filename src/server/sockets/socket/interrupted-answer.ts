import { INTERRUPTION_MARKER } from '../../../agent/history/interruptions.ts';

/**
 * The answer as the caller heard it before cutting in, with the gateway's interruption marker
 * there (as IMS marks it with HistorySyncWithTTS): the history then tells the model where its
 * answer was cut off (src/agent/history/interruptions.ts). `heard` is the platform's account of
 * what was spoken; found in the answer, the answer is cut after it, else what was heard stands.
 */
export function interruptedAnswer(said: string, heard: string): string {
  const trimmed = heard.trim();
  const at = trimmed === '' ? 0 : said.indexOf(trimmed);
  const kept = at >= 0 ? said.slice(0, at + trimmed.length) : trimmed;
  return `${kept} ${INTERRUPTION_MARKER}`;
}
