/**
 * Finds IMS workflow commands (`<imsagent_hangup …/>`, `<imsagent_transfer_call …/>`, any tag whose
 * name starts with `imsagent`, closing tags too) in streamed text and separates them from the text
 * around them. Any letter case; whitespace after `<` and around a closing `/` (`< imsagent_hangup`,
 * `</ IMSAGENT_…>`); invisible format characters anywhere in the start. Where the workflow's own
 * reading is unknown, more is taken for a command, never less. A tag ends at the first `>`
 * outside a quoted attribute value.
 *
 * Streaming and linear: plain text is passed on at once; only a possible start of a command at the
 * end of a chunk (`<`, `< ims`, `</imsage`, ...) is held back until the next chunk decides it.
 *
 * The guarantee is about the output, not the input: the text passed on never contains a command
 * start, even where removing a command joins what was around it (`<ims` + removed tag + `agent_…`).
 * For that the matcher also runs over the text already passed on: after a removed command it
 * continues from where that text left off, and a continuation that completes a command start is
 * removed as a command.
 */

const NAME = 'imsagent';
/** Characters of a command kept for reading its name and attributes; longer ones are still removed whole. */
const MAX_COMMAND_CHARS = 1024;

/** A piece of scanned text: text to pass on, or a command taken out of it. */
export type ScannedSegment =
  | { kind: 'text'; text: string }
  | {
      kind: 'command';
      /** The command as written, from its `<` (cut after MAX_COMMAND_CHARS). */
      raw: string;
      /** False when the text ended before the command's closing `>`. */
      complete: boolean;
    };

/** Progress through a possible command start: `<`, whitespace, an optional `/`, whitespace, then the name. */
interface Prefix {
  /** Letters of NAME matched so far. */
  matched: number;
  slash: boolean;
}

const NONE = null;
const START: Prefix = { matched: 0, slash: false };

/** Invisible format characters (zero-width space and joiners, soft hyphen, BOM, bidi marks): a reader may drop them. */
const INVISIBLE = /^\p{Cf}$/u;

/**
 * Whether `c` reads as the name's `letter` to a case-insensitive reader, Unicode case folding
 * included (`ſ` folds to s, `ı` and `İ` to i, as Java's equalsIgnoreCase has it).
 */
function readsAs(c: string, letter: string): boolean {
  return c.toLowerCase() === letter || c.toUpperCase() === letter.toUpperCase() || (c === '\u0130' && letter === 'i');
}

/** The next state after `c`; 'command' when the name is complete. */
function step(state: Prefix | null, c: string): Prefix | null | 'command' {
  if (c === '<') return START;
  if (state === NONE) return NONE;
  if (INVISIBLE.test(c)) return state;
  if (state.matched === 0) {
    if (c.trim() === '') return state;
    if (c === '/' && !state.slash) return { matched: 0, slash: true };
  }
  if (!readsAs(c, NAME[state.matched]!)) return NONE;
  return state.matched + 1 === NAME.length ? 'command' : { matched: state.matched + 1, slash: state.slash };
}

export class CommandScanner {
  /** The state over the text passed on plus `#held`. */
  #state: Prefix | null = NONE;
  /** The state over the text passed on only: where matching resumes after a removed command. */
  #passedState: Prefix | null = NONE;
  /** A possible command start not passed on yet. */
  #held = '';
  /** Inside a command: what was read of it, and an open attribute quote. */
  #command: { raw: string; quote: string } | undefined;

  /**
   * Nothing held, no command open and no start pending on either side of what was passed: a chunk
   * without `<` would be passed on whole, so a caller may pass it on without scanning.
   */
  get idle(): boolean {
    return this.#state === NONE && this.#passedState === NONE && this.#held === '' && this.#command === undefined;
  }

  /** Scans the next chunk: the segments it decides, in order. */
  push(chunk: string): ScannedSegment[] {
    const out: ScannedSegment[] = [];
    let text = '';
    let i = 0;
    while (i < chunk.length) {
      const command = this.#command;
      if (command !== undefined) {
        const c = chunk[i++]!;
        if (command.raw.length < MAX_COMMAND_CHARS) command.raw += c;
        if (command.quote !== '') {
          if (c === command.quote) command.quote = '';
        } else if (c === '"' || c === "'") {
          command.quote = c;
        } else if (c === '>') {
          out.push({ kind: 'command', raw: command.raw, complete: true });
          this.#command = undefined;
          this.#state = this.#passedState;
        }
        continue;
      }
      if (this.#state === NONE) {
        // Plain text: jump to the next possible command start.
        const lt = chunk.indexOf('<', i);
        const end = lt < 0 ? chunk.length : lt;
        text += chunk.slice(i, end);
        i = end;
        if (lt < 0) break;
      }
      const c = chunk[i++]!;
      const next = step(this.#state, c);
      if (next === 'command') {
        // Completed after a removed command: its beginning was passed on before, write it back for the reader.
        const passed =
          this.#held.startsWith('<') || this.#passedState === NONE
            ? ''
            : `<${this.#passedState.slash ? '/' : ''}${NAME.slice(0, this.#passedState.matched)}`;
        const start = passed + this.#held + c;
        this.#held = '';
        text = this.#pass(out, text);
        this.#command = { raw: start, quote: '' };
      } else if (c === '<') {
        // A new possible start: the one before it is plain text now.
        text += this.#held;
        this.#held = c;
        this.#state = next;
      } else if (next === NONE) {
        text += this.#held + c;
        this.#held = '';
        this.#state = NONE;
      } else {
        this.#held += c;
        this.#state = next;
      }
    }
    this.#pass(out, text);
    return out;
  }

  /** Passes on a held possible start now (before a part that is not text); matching continues after it. */
  release(): ScannedSegment[] {
    const out: ScannedSegment[] = [];
    this.#pass(out, this.#held);
    this.#held = '';
    return out;
  }

  /** The text ended: a held start was not a command after all; an unclosed command is still one. */
  end(): ScannedSegment[] {
    const out = this.release();
    if (this.#command !== undefined) out.push({ kind: 'command', raw: this.#command.raw, complete: false });
    this.#command = undefined;
    this.#state = this.#passedState = NONE;
    return out;
  }

  /** Passes on `text`, keeping #passedState in step; returns '' (the text buffer, emptied). */
  #pass(out: ScannedSegment[], text: string): string {
    if (text === '') return '';
    out.push({ kind: 'text', text });
    const lt = text.lastIndexOf('<');
    let state = lt >= 0 ? START : this.#passedState;
    for (let i = lt + 1; i < text.length && state !== NONE; i++) {
      const next = step(state, text[i]!);
      state = next === 'command' ? NONE : next; // a complete start is never passed on
    }
    this.#passedState = state;
    return '';
  }
}

/** Every command taken out of a whole text, and the text without them. */
export function scanWhole(text: string): { text: string; commands: string[] } {
  const scanner = new CommandScanner();
  let kept = '';
  const commands: string[] = [];
  for (const segment of [...scanner.push(text), ...scanner.end()]) {
    if (segment.kind === 'text') kept += segment.text;
    else commands.push(segment.raw);
  }
  return { text: kept, commands };
}
