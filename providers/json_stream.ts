/**
 * Incremental splitter for JSON response bodies. A plain JSON body yields its one value as soon as its last
 * brace arrives (so a non-streaming response is parsed within `push`, not only at the end); a body that is a
 * top-level array — Gemini's `streamGenerateContent` without `alt=sse` streams one — yields each element as
 * it completes. Only the value being assembled is held, up to `maxValueChars`; a longer one is skipped and
 * reported.
 * @module
 */

/** What one `push` or `end` produced: complete values (unparsed JSON text) and problems met. */
export interface JsonStreamOutput {
  values: string[];
  errors: string[];
}

const DEFAULT_MAX_VALUE = 8 * 1024 * 1024;
const OPEN_BRACE = 123, CLOSE_BRACE = 125, OPEN_BRACKET = 91, CLOSE_BRACKET = 93, QUOTE = 34, BACKSLASH = 92;

/**
 * Splits a JSON byte stream into top-level values (or the elements of a top-level array).
 * @example
 * const s = new JsonValueStream();
 * s.push(new TextEncoder().encode('[{"a":1},{"b"')).values // ['{"a":1}']
 */
export class JsonValueStream {
  readonly #decoder = new TextDecoder();
  readonly #max: number;
  /** "start" before the first non-blank character; "array" inside a top-level array; "value" otherwise. */
  #mode: "start" | "array" | "value" | "done" | "junk" = "start";
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** Text of the value being assembled (only while inside one). */
  #buf = "";
  #inValue = false;
  #skipping = false;
  #trailing = false;

  constructor(options: { maxValueChars?: number } = {}) {
    this.#max = options.maxValueChars ?? DEFAULT_MAX_VALUE;
  }

  /** Feeds bytes; returns the values they completed. */
  push(chunk: Uint8Array): JsonStreamOutput {
    return this.#feed(this.#decoder.decode(chunk, { stream: true }));
  }

  /** Ends the stream; an unfinished value is reported as truncated. */
  end(): JsonStreamOutput {
    const out = this.#feed(this.#decoder.decode());
    if (this.#inValue) {
      out.errors.push(`JSON body ended inside a value (${this.#buf.length} characters kept)`);
    } else if (this.#mode === "array") out.errors.push("JSON array body ended before its closing bracket");
    if (this.#trailing) out.errors.push("JSON body has text after its value");
    return out;
  }

  #feed(text: string): JsonStreamOutput {
    const out: JsonStreamOutput = { values: [], errors: [] };
    let valueStart = this.#inValue ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (!this.#inValue) {
        if (c <= 32 || c === 44 || this.#mode === "junk") continue; // blanks, commas between elements
        if (this.#mode === "start") {
          this.#mode = c === OPEN_BRACKET ? "array" : "value";
          if (c === OPEN_BRACKET) continue;
        } else if (this.#mode === "array" && c === CLOSE_BRACKET) {
          this.#mode = "done";
          continue;
        } else if (this.#mode !== "array") {
          this.#trailing = true;
          continue;
        }
        if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
          // Response bodies are objects (or arrays of objects); anything else is not worth assembling.
          out.errors.push(`JSON body has an unexpected character "${text[i]}"; the rest is ignored`);
          this.#mode = "junk";
          continue;
        }
        this.#inValue = true;
        this.#depth = 0;
        valueStart = i;
      }
      if (this.#inString) {
        if (this.#escaped) {
          this.#escaped = false;
          continue;
        }
        // Jump to the string's closing quote with native indexOf: most of a response body is string
        // content, and a character-by-character loop over it was most of the parser's time.
        const close = closingQuote(text, i);
        if (close >= 0) {
          this.#inString = false;
          i = close;
        } else {
          this.#escaped = oddBackslashRun(text, text.length, i);
          i = text.length;
        }
        continue;
      }
      if (c === QUOTE) this.#inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.#depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) this.#depth--;
      if (this.#depth > 0) continue;
      this.#complete(text.slice(valueStart, i + 1), out);
      valueStart = -1;
      if (this.#mode === "value") this.#mode = "done";
    }
    if (this.#inValue) this.#hold(valueStart < 0 ? "" : text.slice(valueStart), out);
    return out;
  }

  #hold(part: string, out: JsonStreamOutput): void {
    if (this.#skipping) return;
    if (this.#buf.length + part.length > this.#max) {
      this.#buf = "";
      this.#skipping = true;
      out.errors.push(`JSON value longer than ${this.#max} characters was dropped`);
      return;
    }
    this.#buf += part;
  }

  #complete(tail: string, out: JsonStreamOutput): void {
    if (!this.#skipping) {
      if (this.#buf.length + tail.length > this.#max) {
        out.errors.push(`JSON value longer than ${this.#max} characters was dropped`);
      } else out.values.push(this.#buf + tail);
    }
    this.#buf = "";
    this.#skipping = false;
    this.#inValue = false;
  }
}

/** The first unescaped `"` in `text` at or after `from` (which is inside a string), or -1. */
function closingQuote(text: string, from: number): number {
  let quote = text.indexOf('"', from);
  while (quote >= 0 && oddBackslashRun(text, quote, from)) quote = text.indexOf('"', quote + 1);
  return quote;
}

/** Whether an odd number of backslashes ends just before `at` (not looking back past `floor`). */
function oddBackslashRun(text: string, at: number, floor: number): boolean {
  let count = 0;
  for (let j = at - 1; j >= floor && text.charCodeAt(j) === BACKSLASH; j--) count++;
  return count % 2 === 1;
}
