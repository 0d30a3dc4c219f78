import type { AgentConfig } from '../config/schema.ts';
import type { PartStream, PartTransform } from '../core/stream-part.ts';

export interface ApologyOptions {
  config: AgentConfig['onFailure'];
  /** The apology in the caller's language, when none is configured. */
  defaultMessage: string;
  signal: AbortSignal;
  /** Failed turns in a row for this call, this one included (1 when the call is unknown). */
  recordFailure: () => number;
  recordSuccess: () => void;
  onApology: (error: unknown) => void;
}

/** The apology stage of a turn. */
export function apologize(options: ApologyOptions): PartTransform {
  return (parts) => apologizeOnFailure(parts, options);
}

/**
 * Silence is the worst failure on a phone line: when every provider failed before a word was
 * said, the caller hears an apology as a normal, well-formed answer instead (and, after too many
 * failed turns in a row, the call ends). Mode `error` lets non-voice clients get the HTTP error.
 * Once words were said, a failure is left to end the stream cleanly: what was said stays said.
 */
export async function* apologizeOnFailure(parts: PartStream, options: ApologyOptions): PartStream {
  let said = false;
  try {
    for await (const part of parts) {
      if (part.type === 'text' || part.type === 'tool-call-start') said = true;
      yield part;
    }
    options.recordSuccess();
  } catch (error) {
    if (options.signal.aborted || said || options.config.mode === 'error') throw error;
    const failures = options.recordFailure();
    options.onApology(error);
    yield { type: 'text', text: options.config.message ?? options.defaultMessage };
    const limit = options.config.hangupAfterFailures;
    if (limit > 0 && failures >= limit) yield { type: 'end-call' };
    yield { type: 'finish', reason: 'stop' };
  }
}
