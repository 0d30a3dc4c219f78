/**
 * Shapes text parts for text-to-speech: every character a TTS engine would read aloud wrongly is
 * removed — Markdown syntax (headings, emphasis, code, lists, quotes, rules, tables, links, images,
 * autolinks) and emoji — while the words, sentence punctuation, CJK text and newlines (pauses)
 * stay. IMS workflow commands (`<imsagent_hangup .../>`, `<imsagent_transfer_call .../>`) pass
 * through byte for byte.
 *
 * Streaming, one pass over the characters: a small state machine decides at each position what
 * the text there is. When the buffered text cannot decide yet (a trailing `*`, `<ims`, `](ht`, a
 * line start before its first character, half a surrogate pair, ...), only that suffix is held
 * back, bounded; everything before it is yielded at once, so plain text is never delayed. Every
 * decision depends only on characters already seen, so any chunking of the same text gives the
 * same output. Held-back text is flushed (decided as if the text ended there) before a part that
 * is not text, and at the end. Other parts pass through unchanged and in order.
 */

import type { PartStream, PartTransform, StreamPart } from '../../providers/stream-part.ts';

/** A decision's answer when the buffered text cannot decide yet. */
const NEED_MORE = -1;

const IMS_PREFIX = '<imsagent_';
/** An `<imsagent_` with no `>` this far on is not a command after all: release it as text. */
const IMS_LIMIT = 512;
/** Longest link or image (`[...](...)`, `<scheme:...>`) waited for before it counts as text. */
const LINK_LIMIT = 300;
/** Longest indentation looked past at a line start. */
const INDENT_LIMIT = 16;
/** Longest rule / table-separator line looked at. */
const DECOR_LIMIT = 512;
const MAX_HEADING_LEVEL = 6;
/** `1. ` to `999. `: longer numbers at a line start are more likely a year than a list. */
const MAX_LIST_NUMBER_DIGITS = 3;
const MIN_FENCE = 3;
const MAX_SCHEME_LENGTH = 32;

/**
 * A run of characters that are spoken as they are, whatever follows. Excluded: characters that
 * may start or be a marker, emoji (and their components, lone surrogates), and `#` / digits
 * unless the next character shows they are not a keycap emoji. `!`, `~` and `<` count as plain
 * when the next character rules out an image, strikethrough, or command / autolink.
 */
const PLAIN_RUN =
  /(?:[^\n*_~`[\]!<|#0-9\u200d\u20e3\ufe0e\ufe0f\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}\p{Extended_Pictographic}\p{Cs}]|[#0-9](?=[^\u20e3\ufe0f])|!(?=[^[])|~(?=[^~])|<(?=[^A-Za-z]))+/uy;

/**
 * Pictographs and the invisible parts of emoji sequences: variation selectors (text / emoji
 * presentation), the keycap mark, skin-tone modifiers, regional indicators (flags), tag characters
 * (subdivision flags). ZWJ is handled apart: it is also used by some scripts.
 */
const EMOJI =
  /[\p{Extended_Pictographic}\u20e3\ufe0e\ufe0f\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}]/u;
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const SCHEME_START = /[A-Za-z]/;
const SCHEME_CHAR = /[A-Za-z0-9+.-]/;
const NON_BLANK = /\S/;
const ZWJ = 0x200d;

function isIndent(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

/** Whitespace, or the edge of the text ('' / undefined). */
function isBlank(ch: string | undefined): boolean {
  return ch === undefined || ch.trim() === '';
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && ch >= '0' && ch <= '9';
}

function runEnd(buf: string, from: number, ch: string): number {
  let end = from;
  while (end < buf.length && buf[end] === ch) end++;
  return end;
}

function lastCodePoint(text: string): string {
  const last = text.length - 1;
  const code = text.charCodeAt(last);
  const start = code >= 0xdc00 && code <= 0xdfff && last > 0 ? last - 1 : last;
  return text.slice(start);
}

/**
 * The code point at `at` ('' at the end of a final text), or null when the text so far ends
 * before it or inside it (a surrogate pair split between chunks).
 */
function peekCodePoint(buf: string, at: number, final: boolean): string | null {
  if (at >= buf.length) return final ? '' : null;
  const code = buf.charCodeAt(at);
  if (code >= 0xd800 && code <= 0xdbff && at + 1 === buf.length && !final) return null;
  return String.fromCodePoint(buf.codePointAt(at)!);
}

/** Length of a keycap emoji (`1️⃣`, `#⃣`) starting at `at`, 0 when there is none. */
function keycapLength(buf: string, at: number, final: boolean): number {
  const mark = buf[at + 1];
  if (mark === undefined) return final ? 0 : NEED_MORE;
  if (mark === '\u20e3') return 2;
  if (mark !== '\ufe0f') return 0;
  const keycap = buf[at + 2];
  if (keycap === undefined) return final ? 0 : NEED_MORE;
  return keycap === '\u20e3' ? 3 : 0;
}

/**
 * End of a link destination `(url)` whose `(` is at `open`, or 0 when it is not one: a
 * destination has no whitespace (so `[a] (an aside)` keeps its aside), and parentheses nest.
 */
function destinationEnd(buf: string, open: number, final: boolean): number {
  let depth = 0;
  for (let i = open; i < buf.length; i++) {
    if (i - open > LINK_LIMIT) return 0;
    const ch = buf[i];
    if (ch === '(') depth++;
    else if (ch === ')') {
      if (--depth === 0) return i + 1;
    } else if (isBlank(ch)) return 0;
  }
  return final ? 0 : NEED_MORE;
}

/** End of an image `![alt](url)` whose `!` is at `bang`, or 0 when it is not one. */
function imageEnd(buf: string, bang: number, final: boolean): number {
  let depth = 0;
  for (let i = bang + 1; i < buf.length; i++) {
    if (i - bang > LINK_LIMIT) return 0;
    const ch = buf[i];
    if (ch === '\n') return 0;
    if (ch === '[') depth++;
    else if (ch === ']' && --depth === 0) {
      if (i + 1 === buf.length) return final ? 0 : NEED_MORE;
      return buf[i + 1] === '(' ? destinationEnd(buf, i + 1, final) : 0;
    }
  }
  return final ? 0 : NEED_MORE;
}

/** End of an autolink `<scheme:...>` whose `<` is at `open`, or 0 when it is not one. */
function autolinkEnd(buf: string, open: number, final: boolean): number {
  let i = open + 1;
  while (i < buf.length && i - open <= MAX_SCHEME_LENGTH) {
    const ch = buf[i]!;
    if (!(i === open + 1 ? SCHEME_START : SCHEME_CHAR).test(ch)) break;
    i++;
  }
  if (i === buf.length) return final ? 0 : NEED_MORE;
  if (buf[i] !== ':' || i - open - 1 < 2) return 0;
  const colon = i;
  for (i++; i < buf.length; i++) {
    if (i - open > LINK_LIMIT) return 0;
    const ch = buf[i];
    if (ch === '>') return i > colon + 1 ? i + 1 : 0;
    if (ch === '<' || isBlank(ch)) return 0;
  }
  return final ? 0 : NEED_MORE;
}

/**
 * End (after its newline) of a line made only of rule / table-separator characters that reads
 * as nothing: a thematic break (`---`, `***`, `___`, `* * *`), a setext underline (`===`), a
 * table separator row (`|---|:--:|`). 0 when the line is something else.
 */
function decorativeLineEnd(buf: string, from: number, final: boolean): number {
  let dashes = 0;
  let stars = 0;
  let underscores = 0;
  let equals = 0;
  let pipes = 0;
  let end = from;
  scan: for (; end < buf.length && end - from < DECOR_LIMIT; end++) {
    switch (buf[end]) {
      case '-':
        dashes++;
        break;
      case '*':
        stars++;
        break;
      case '_':
        underscores++;
        break;
      case '=':
        equals++;
        break;
      case '|':
        pipes++;
        break;
      case ':':
      case '+':
      case ' ':
      case '\t':
        break;
      default:
        break scan;
    }
  }
  if (end - from >= DECOR_LIMIT) return 0;
  if (end === buf.length) {
    if (!final) return NEED_MORE;
  } else if (buf[end] === '\n') {
    end++;
  } else {
    return 0;
  }
  const rule = dashes >= 3 || stars >= 3 || underscores >= 3 || equals >= 3;
  const tableSeparator = pipes > 0 && dashes > 0;
  return rule || tableSeparator ? end : 0;
}

/** The state machine. `push` / `end` return the speakable text decided so far ('' for none). */
class SpeechShaper {
  /** Text not decided yet: the shortest suffix that could still become a marker. */
  private held = '';
  /** Output slices of the current call, joined once. */
  private readonly out: string[] = [];
  /** At a line start (also the start of the stream): block markers are looked for. */
  private lineStart = true;
  /** Dropping the rest of the current line, its newline included. */
  private dropLine = false;
  /** Inside a fenced code block: its fence character and length. */
  private fence: { char: string; length: number } | undefined;
  /** The current line is a table row: pipes separate cells. */
  private tableRow = false;
  private rowHasText = false;
  /** A cell boundary was passed: ", " goes before the next cell's text. */
  private pendingSeparator = false;
  /** Whitespace at the end of table cell text, emitted only if no cell boundary follows. */
  private trailingSpace = '';
  /** Open `[` of link texts. */
  private linkDepth = 0;
  /** Drop the spaces that start the next text (after a removed marker or emoji). */
  private collapse = false;
  /** The last thing removed was an emoji: a ZWJ now joins emoji and goes too. */
  private afterEmoji = false;
  /** The last code point emitted ('\n' at the start): decides whether `*` / `_` are markers. */
  private prev = '\n';
  /** Newlines emitted since the last visible character (the start counts as a paragraph break). */
  private newlineRun = 2;
  /** Something was removed since the last visible character: extra blank lines go too. */
  private removed = false;
  /** Something was removed from the current line / something visible was emitted on it. */
  private lineHadRemoval = false;
  private lineHasText = false;

  push(text: string): string {
    this.held += text;
    return this.run(false);
  }

  /** Decides all held-back text as if the text ended here. */
  end(): string {
    return this.run(true);
  }

  private run(final: boolean): string {
    const buf = this.held;
    let pos = 0;
    while (pos < buf.length) {
      const used = this.step(buf, pos, final);
      if (used === NEED_MORE) break;
      pos += used;
    }
    this.held = buf.slice(pos);
    const text = this.out.join('');
    this.out.length = 0;
    return text;
  }

  /** Handles the text at `pos`: the number of characters consumed (0 after a state change). */
  private step(buf: string, pos: number, final: boolean): number {
    if (this.dropLine) return this.skipLine(buf, pos);
    if (this.fence !== undefined) return this.fenceLine(buf, pos, final);
    if (this.lineStart) return this.lineStartMarker(buf, pos, final);
    return this.inline(buf, pos, final);
  }

  private skipLine(buf: string, pos: number): number {
    const newline = buf.indexOf('\n', pos);
    if (newline < 0) return buf.length - pos;
    this.dropLine = false;
    this.lineStart = true;
    return newline + 1 - pos;
  }

  /**
   * A line inside a fenced code block. The body is dropped, not spoken: code read out character
   * by character is noise on a phone call. A line starting with a fence at least as long closes it.
   */
  private fenceLine(buf: string, pos: number, final: boolean): number {
    const fence = this.fence!;
    let start = pos;
    while (start < buf.length && start - pos < INDENT_LIMIT && isIndent(buf[start])) start++;
    const end = runEnd(buf, start, fence.char);
    if (end === buf.length && !final) return NEED_MORE;
    if (end - start >= fence.length) this.fence = undefined;
    this.dropLine = true;
    return end - pos;
  }

  /** Block markers, which only count at a line start (after any indentation). */
  private lineStartMarker(buf: string, pos: number, final: boolean): number {
    const len = buf.length;
    let at = pos;
    while (at < len && at - pos < INDENT_LIMIT && isIndent(buf[at])) at++;
    if (at === len && !final) return NEED_MORE;
    const c = buf[at];

    // Rules and table separator rows read as nothing: drop the line with its newline.
    if (c === '-' || c === '*' || c === '_' || c === '=' || c === '|') {
      const end = decorativeLineEnd(buf, at, final);
      if (end === NEED_MORE) return NEED_MORE;
      if (end > 0) {
        this.removed = true;
        return end - pos;
      }
    }

    switch (c) {
      // ATX heading `## Title`: the hashes go, the title is spoken.
      case '#': {
        const end = runEnd(buf, at, '#');
        if (end === len && !final) return NEED_MORE;
        this.lineStart = false;
        const next = buf[end];
        if (end - at <= MAX_HEADING_LEVEL && (next === undefined || next === '\n' || isIndent(next))) {
          this.collapse = true;
          return end - pos;
        }
        return 0; // `#hashtag`, `#️⃣`: not a heading.
      }
      // A fence opens a code block; its line (with the language tag) goes.
      case '`':
      case '~': {
        const end = runEnd(buf, at, c);
        if (end === len && !final) return NEED_MORE;
        this.lineStart = false;
        if (end - at < MIN_FENCE) return 0; // Inline code or strikethrough.
        this.fence = { char: c, length: end - at };
        this.dropLine = true;
        this.removed = true;
        return end - pos;
      }
      // Bullet `- item`: the marker goes. Still at a line start: `- **x**`, `- [ ] x`, `> - x`.
      case '-':
      case '*':
      case '+': {
        if (at + 1 === len && !final) return NEED_MORE;
        if (isIndent(buf[at + 1])) {
          this.collapse = true;
          return at + 2 - pos;
        }
        this.lineStart = false;
        return 0;
      }
      // Blockquote `> text`: the marker goes; nested quotes and lists follow it.
      case '>':
        this.collapse = true;
        return at + 1 - pos;
      // Table row: pipes become cell separators so the row reads as a list of words.
      case '|':
        this.lineStart = false;
        this.tableRow = true;
        this.rowHasText = false;
        this.collapse = true;
        return at + 1 - pos;
      default:
        break;
    }

    // Numbered item `1. ` / `1) `: the number goes (TTS would read "one dot").
    if (isDigit(c)) {
      let end = at;
      while (end < len && end - at <= MAX_LIST_NUMBER_DIGITS && isDigit(buf[end])) end++;
      const digits = end - at;
      if (digits <= MAX_LIST_NUMBER_DIGITS) {
        if (end === len && !final) return NEED_MORE;
        const mark = buf[end];
        if (mark === '.' || mark === ')') {
          if (end + 1 === len && !final) return NEED_MORE;
          if (isIndent(buf[end + 1])) {
            this.collapse = true;
            return end + 2 - pos;
          }
        }
      }
    }
    this.lineStart = false;
    return 0;
  }

  /** Text within a line. */
  private inline(buf: string, pos: number, final: boolean): number {
    PLAIN_RUN.lastIndex = pos;
    const plain = PLAIN_RUN.exec(buf);
    if (plain !== null) {
      this.emit(plain[0]);
      return plain[0].length;
    }
    switch (buf[pos]) {
      case '\n':
        return this.newline();
      case '*':
        return this.asterisks(buf, pos, final);
      case '_':
        return this.underscores(buf, pos, final);
      case '~':
        return this.tildes(buf, pos, final);
      // Inline code: the backticks go, the code text is spoken.
      case '`':
        return 1;
      // Link text `[text](url)` is spoken as it arrives; the brackets are never spoken.
      case '[':
        this.linkDepth++;
        return 1;
      case ']':
        return this.closeBracket(buf, pos, final);
      case '!':
        return this.bang(buf, pos, final);
      case '<':
        return this.angle(buf, pos, final);
      case '|':
        return this.pipe();
      default:
        return this.symbol(buf, pos, final);
    }
  }

  private newline(): number {
    // Keep newlines (pauses), but a line left empty by removals goes with its newline, and
    // removed lines must not leave runs of blank lines.
    const emptied = this.lineHadRemoval && !this.lineHasText;
    if (!emptied && !(this.removed && this.newlineRun >= 2)) {
      this.out.push('\n');
      this.newlineRun++;
    }
    this.prev = '\n';
    this.lineStart = true;
    this.tableRow = false;
    this.pendingSeparator = false;
    this.trailingSpace = '';
    this.collapse = false;
    this.afterEmoji = false;
    this.linkDepth = 0;
    this.lineHadRemoval = false;
    this.lineHasText = false;
    return 1;
  }

  /**
   * Emphasis `*x*` / `**x**`: the markers go. A `*` with blanks on both sides (`2 * 3`) or a
   * single one between digits (`2*3`) is arithmetic and stays.
   */
  private asterisks(buf: string, pos: number, final: boolean): number {
    const end = runEnd(buf, pos, '*');
    if (end === buf.length && !final) return NEED_MORE;
    const count = end - pos;
    if (count === 1) {
      const keycap = keycapLength(buf, pos, final);
      if (keycap === NEED_MORE) return NEED_MORE;
      if (keycap > 0) {
        this.dropped(true);
        return keycap;
      }
    }
    const next = buf[end];
    const arithmetic =
      (isBlank(this.prev) && isBlank(next)) || (count === 1 && isDigit(this.prev) && isDigit(next));
    if (arithmetic) this.emit(buf.slice(pos, end));
    return count;
  }

  /**
   * Emphasis `_x_` / `__x__`: the markers go. Inside a word (`snake_case`) or between blanks an
   * underscore stays.
   */
  private underscores(buf: string, pos: number, final: boolean): number {
    const end = runEnd(buf, pos, '_');
    const next = peekCodePoint(buf, end, final);
    if (next === null) return NEED_MORE;
    const inWord = WORD_CHAR.test(this.prev) && WORD_CHAR.test(next);
    if (inWord || (isBlank(this.prev) && isBlank(next))) this.emit(buf.slice(pos, end));
    return end - pos;
  }

  /** Strikethrough `~~x~~`: the markers go (the words stay). A single `~` ("about") stays. */
  private tildes(buf: string, pos: number, final: boolean): number {
    const end = runEnd(buf, pos, '~');
    if (end === buf.length && !final) return NEED_MORE;
    if (end - pos === 1 || (isBlank(this.prev) && isBlank(buf[end]))) this.emit(buf.slice(pos, end));
    return end - pos;
  }

  /** The `]` closing a link text: a `(url)` right after it is not spoken. */
  private closeBracket(buf: string, pos: number, final: boolean): number {
    if (this.linkDepth !== 1) {
      if (this.linkDepth > 1) this.linkDepth--;
      return 1;
    }
    if (pos + 1 === buf.length && !final) return NEED_MORE;
    let end = pos + 1;
    if (buf[pos + 1] === '(') {
      const close = destinationEnd(buf, pos + 1, final);
      if (close === NEED_MORE) return NEED_MORE;
      if (close > 0) end = close;
    }
    this.linkDepth = 0;
    return end - pos;
  }

  /** An image `![alt](url)` is dropped whole: alt text out of context confuses a listener. */
  private bang(buf: string, pos: number, final: boolean): number {
    if (pos + 1 === buf.length && !final) return NEED_MORE;
    if (buf[pos + 1] === '[') {
      const end = imageEnd(buf, pos, final);
      if (end === NEED_MORE) return NEED_MORE;
      if (end > 0) {
        this.dropped(false);
        return end - pos;
      }
    }
    this.emit('!');
    return 1;
  }

  /**
   * `<imsagent_...>` is a workflow command: passed through byte for byte, never shaped. An
   * autolink `<https://...>` is dropped (a URL read aloud is noise). Any other `<` is text.
   */
  private angle(buf: string, pos: number, final: boolean): number {
    let matched = 0;
    while (
      matched < IMS_PREFIX.length &&
      pos + matched < buf.length &&
      buf[pos + matched] === IMS_PREFIX[matched]
    ) {
      matched++;
    }
    if (matched === IMS_PREFIX.length) {
      const close = buf.indexOf('>', pos + matched);
      if (close >= 0 && close - pos < IMS_LIMIT) {
        this.emit(buf.slice(pos, close + 1));
        return close + 1 - pos;
      }
      if (close < 0 && buf.length - pos < IMS_LIMIT && !final) return NEED_MORE;
    } else {
      if (pos + matched === buf.length && !final) return NEED_MORE;
      const end = autolinkEnd(buf, pos, final);
      if (end === NEED_MORE) return NEED_MORE;
      if (end > 0) {
        this.dropped(false);
        return end - pos;
      }
    }
    this.emit('<');
    return 1;
  }

  /** In a table row a pipe separates cells; elsewhere it is text. */
  private pipe(): number {
    if (!this.tableRow) {
      this.emit('|');
      return 1;
    }
    if (this.rowHasText) this.pendingSeparator = true;
    this.trailingSpace = '';
    this.collapse = true;
    return 1;
  }

  /** Keycaps, emoji and their components go; anything else here is text. */
  private symbol(buf: string, pos: number, final: boolean): number {
    const c = buf[pos]!;
    if (c === '#' || isDigit(c)) {
      const keycap = keycapLength(buf, pos, final);
      if (keycap === NEED_MORE) return NEED_MORE;
      if (keycap > 0) {
        this.dropped(true);
        return keycap;
      }
      this.emit(c);
      return 1;
    }
    const ch = peekCodePoint(buf, pos, final);
    if (ch === null) return NEED_MORE;
    if (ch.codePointAt(0) === ZWJ) {
      if (!this.afterEmoji) this.emit(ch);
      return 1;
    }
    if (EMOJI.test(ch)) this.dropped(true);
    else this.emit(ch);
    return ch.length;
  }

  /** Something visible was removed: don't leave a double space or a blank-line run behind. */
  private dropped(emoji: boolean): void {
    if (isBlank(this.prev)) this.collapse = true;
    this.lineHadRemoval = true;
    this.removed = true;
    this.afterEmoji = emoji;
  }

  private emit(slice: string): void {
    let text = slice;
    if (this.collapse) {
      let start = 0;
      while (start < text.length && isIndent(text[start])) start++;
      if (start === text.length) return;
      this.collapse = false;
      if (start > 0) text = text.slice(start);
    }
    this.prev = lastCodePoint(text);
    this.afterEmoji = false;
    if (this.tableRow) {
      // Hold a cell's trailing blanks until we know whether a pipe follows ("Name, Age").
      let end = text.length;
      while (end > 0 && isIndent(text[end - 1])) end--;
      if (end === 0) {
        this.trailingSpace += text;
        return;
      }
      this.out.push(this.pendingSeparator ? ', ' : this.trailingSpace);
      this.pendingSeparator = false;
      this.rowHasText = true;
      this.trailingSpace = text.slice(end);
      text = text.slice(0, end);
    }
    this.out.push(text);
    if (NON_BLANK.test(text)) {
      this.newlineRun = 0;
      this.removed = false;
      this.lineHasText = true;
    }
  }
}

export const shapeSpeech: PartTransform = async function* shapeSpeech(
  parts: PartStream,
): AsyncGenerator<StreamPart, void, undefined> {
  const shaper = new SpeechShaper();
  for await (const part of parts) {
    if (part.type === 'text') {
      const text = shaper.push(part.text);
      if (text !== '') yield { type: 'text', text };
      continue;
    }
    const pending = shaper.end();
    if (pending !== '') yield { type: 'text', text: pending };
    yield part;
  }
  const pending = shaper.end();
  if (pending !== '') yield { type: 'text', text: pending };
};
