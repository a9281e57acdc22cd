/**
 * Incremental server-sent-events decoder (the WHATWG `text/event-stream` format) with bounded memory.
 * Bytes go in as they arrive from the network, split anywhere (even inside a UTF-8 sequence or between
 * `\r` and `\n`); complete events come out. A line longer than `maxLineChars` is dropped rather than
 * buffered, and reported, so that a pathological upstream cannot make the gateway hold an unbounded string.
 * @module
 */

/** One dispatched SSE event: its `event:` name (null when absent) and its joined `data:` lines. */
export interface SseEvent {
  event: string | null;
  data: string;
}

/** Options of `SseDecoder`. */
export interface SseDecoderOptions {
  /** Longest line (and longest joined `data`) kept, in UTF-16 code units. Default 8 MiB. */
  maxLineChars?: number;
}

/** What one `push` or `end` produced: events, and problems met (oversized lines). */
export interface SseOutput {
  events: SseEvent[];
  errors: string[];
}

const DEFAULT_MAX_LINE = 8 * 1024 * 1024;

/**
 * Decodes an SSE byte stream.
 * @example
 * const d = new SseDecoder();
 * d.push(new TextEncoder().encode("event: ping\ndata: {}\n\n")).events // [{ event: "ping", data: "{}" }]
 */
export class SseDecoder {
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });
  readonly #maxLine: number;
  /** Text received but not yet split into lines (an incomplete last line). */
  #pending = "";
  /** True while the current line overflowed: its characters are discarded up to the next line end. */
  #skipping = false;
  /** The previous chunk ended with `\r`; a `\n` at the start of the next one belongs to it. */
  #afterCr = false;
  #eventName: string | null = null;
  #data: string[] = [];
  #dataChars = 0;
  #dataOverflow = false;

  constructor(options: SseDecoderOptions = {}) {
    this.#maxLine = options.maxLineChars ?? DEFAULT_MAX_LINE;
  }

  /** Feeds bytes; returns the events they completed. */
  push(chunk: Uint8Array): SseOutput {
    return this.#feed(this.#decoder.decode(chunk, { stream: true }), false);
  }

  /** Feeds already-decoded text (used by tests and by callers holding strings). */
  pushText(text: string): SseOutput {
    return this.#feed(text, false);
  }

  /**
   * Ends the stream. An event whose terminating blank line never came is still dispatched: servers often
   * close right after the last `data:` line, and a cut-off JSON payload is caught by the caller's parse.
   */
  end(): SseOutput {
    const out = this.#feed(this.#decoder.decode(), true);
    if (!this.#skipping && this.#pending.length > 0) this.#line(this.#pending, out);
    this.#pending = "";
    this.#skipping = false;
    this.#dispatch(out);
    return out;
  }

  #feed(text: string, final: boolean): SseOutput {
    const out: SseOutput = { events: [], errors: [] };
    if (text.length === 0) return out;
    let start = 0;
    if (this.#afterCr) {
      this.#afterCr = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    // Line ends are found with indexOf (fast); the next "\r" is cached so CR-free text is scanned once.
    let nextCr = text.indexOf("\r", start);
    let pos = start;
    while (pos < text.length) {
      if (nextCr >= 0 && nextCr < pos) nextCr = text.indexOf("\r", pos);
      const lf = text.indexOf("\n", pos);
      const end = nextCr < 0 ? lf : lf < 0 || nextCr < lf ? nextCr : lf;
      if (end < 0) {
        this.#keep(text, pos, out);
        break;
      }
      if (this.#skipping) this.#skipping = false;
      else if (this.#pending.length > 0) {
        const line = this.#pending + text.slice(pos, end);
        this.#pending = "";
        this.#line(line, out);
      } else if (end === pos) this.#dispatch(out);
      else if (text.startsWith("data: ", pos)) this.#addData(text.slice(pos + 6, end), out); // the common line
      else this.#line(text.slice(pos, end), out);
      pos = end + 1;
      if (end === nextCr) {
        if (pos < text.length) {
          if (text.charCodeAt(pos) === 10) pos++;
        } else if (!final) this.#afterCr = true;
      }
    }
    return out;
  }

  /** Keeps the unterminated tail of the text, or starts discarding it once it exceeds the bound. */
  #keep(text: string, pos: number, out: SseOutput): void {
    if (this.#skipping) return;
    const tailLength = this.#pending.length + text.length - pos;
    if (tailLength > this.#maxLine) {
      this.#pending = "";
      this.#skipping = true;
      // The event this line belongs to is incomplete now: drop it whole rather than dispatch a part.
      this.#dataOverflow = true;
      out.errors.push(`SSE line longer than ${this.#maxLine} characters was dropped`);
      return;
    }
    this.#pending += pos === 0 ? text : text.slice(pos);
  }

  #line(line: string, out: SseOutput): void {
    if (line.length === 0) {
      this.#dispatch(out);
      return;
    }
    const first = line.charCodeAt(0);
    if (first === 58) return; // ":" comment, used as keep-alive
    // Fast paths for the two fields that matter; the general rule is "name:[ ]value".
    if (first === 100 && line.startsWith("data:")) {
      this.#addData(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5), out);
      return;
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (name === "event") this.#eventName = value;
    else if (name === "data") this.#addData(value, out);
    // "id" and "retry" carry nothing the gateway needs.
  }

  #addData(value: string, out: SseOutput): void {
    if (this.#dataOverflow) return;
    this.#dataChars += value.length + 1;
    if (this.#dataChars > this.#maxLine) {
      this.#dataOverflow = true;
      this.#data = [];
      out.errors.push(`SSE event data longer than ${this.#maxLine} characters was dropped`);
      return;
    }
    this.#data.push(value);
  }

  #dispatch(out: SseOutput): void {
    if (this.#data.length > 0 && !this.#dataOverflow) {
      out.events.push({
        event: this.#eventName,
        data: this.#data.length === 1 ? this.#data[0] : this.#data.join("\n"),
      });
    }
    this.#eventName = null;
    this.#data = [];
    this.#dataChars = 0;
    this.#dataOverflow = false;
  }
}
