/**
 * Where events end in a response's raw bytes, without decoding them: after each blank line of an SSE stream,
 * after each element of a JSON array body, after each message of an AWS event stream (Bedrock). Strict durability needs byte offsets, not parsed events: the
 * response parser is fed a chunk piece by piece at these offsets, so the piece that completes the final event
 * (and everything before it, which may go to the client at once) is known to the byte. Both scanners keep
 * their state across chunks, so a chunk may be cut anywhere, even between `\r` and `\n`. The offsets only ever
 * fall where the SSE decoder or JSON splitter completes an event; missing one (a stream that ends lines with a
 * lone `\r`) only makes the piece holding the final event longer, never shorter.
 * @module
 */

const LF = 10, CR = 13, QUOTE = 34, BACKSLASH = 92;
const OPEN_BRACE = 123, CLOSE_BRACE = 125, OPEN_BRACKET = 91, CLOSE_BRACKET = 93;

/** Offsets of event ends in chunks of one byte stream. */
export interface EventEnds {
  /** Offsets in `chunk` just after each event that ends in it, ascending. */
  ends(chunk: Uint8Array): number[];
}

/**
 * Ends of SSE events: the offset after each blank line (`\n\n`, `\r\n\r\n`, `\n\r\n`).
 * @example
 * new SseEventEnds().ends(new TextEncoder().encode("data: 1\n\ndata: 2\n\nda")) // [9, 18]
 */
export class SseEventEnds implements EventEnds {
  /** What the current line holds so far: nothing, exactly one `\r`, or anything else. */
  #line: "empty" | "cr" | "text" = "empty";

  ends(chunk: Uint8Array): number[] {
    const out: number[] = [];
    let from = 0;
    while (from <= chunk.length) {
      const lf = chunk.indexOf(LF, from);
      const to = lf < 0 ? chunk.length : lf;
      const line = this.#extend(chunk, from, to);
      if (lf < 0) {
        this.#line = line;
        break;
      }
      if (line !== "text") out.push(lf + 1);
      this.#line = "empty";
      from = lf + 1;
    }
    return out;
  }

  /** The current line's state once `chunk[from, to)` is added to it. */
  #extend(chunk: Uint8Array, from: number, to: number): "empty" | "cr" | "text" {
    if (to === from) return this.#line;
    if (this.#line !== "empty" || to - from > 1) return "text";
    return chunk[from] === CR ? "cr" : "text";
  }
}

/**
 * Ends of the values of a JSON body: each element of a top-level array (Gemini's `streamGenerateContent`
 * without `alt=sse`), and the closing bracket. A body that is one object has no inner ends: the whole body is
 * its one event.
 * @example
 * new JsonValueEnds().ends(new TextEncoder().encode('[{"a":"}"},\n{"b":1}]')) // [10, 19, 20]
 */
export class JsonValueEnds implements EventEnds {
  #top: "unknown" | "array" | "object" = "unknown";
  #depth = 0;
  #inString = false;
  #escaped = false;

  ends(chunk: Uint8Array): number[] {
    const out: number[] = [];
    let i = 0;
    if (this.#top === "unknown") {
      while (i < chunk.length && isBlank(chunk[i])) i++;
      if (i === chunk.length) return out;
      this.#top = chunk[i] === OPEN_BRACKET ? "array" : "object";
    }
    if (this.#top === "object") return out;
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === BACKSLASH) this.#escaped = true;
        else if (c === QUOTE) this.#inString = false;
      } else if (c === QUOTE) this.#inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.#depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --this.#depth <= 1) out.push(i + 1);
    }
    return out;
  }
}

/**
 * Ends of AWS event-stream messages (Bedrock): each message starts with its big-endian total length, so the
 * scanner reads four bytes and skips the rest. A length below the 16-byte minimum means the framing is lost;
 * no further ends are reported (the final piece then runs to the end of the stream, which is safe).
 * @example new EventStreamEnds().ends(twoMessagesOf16Bytes) // [16, 32]
 */
export class EventStreamEnds implements EventEnds {
  #length = 0;
  #lengthBytes = 0;
  /** Bytes of the current message still to come after its length field; 0 while reading a length. */
  #remaining = 0;
  #lost = false;

  ends(chunk: Uint8Array): number[] {
    const out: number[] = [];
    let i = 0;
    while (i < chunk.length && !this.#lost) {
      if (this.#remaining === 0) {
        for (; this.#lengthBytes < 4 && i < chunk.length; this.#lengthBytes++) {
          this.#length = this.#length * 256 + chunk[i++];
        }
        if (this.#lengthBytes < 4) break;
        if (this.#length < 16) {
          this.#lost = true;
          break;
        }
        this.#remaining = this.#length - 4;
        this.#length = 0;
        this.#lengthBytes = 0;
      }
      const used = Math.min(this.#remaining, chunk.length - i);
      i += used;
      this.#remaining -= used;
      if (this.#remaining === 0) out.push(i);
    }
    return out;
  }
}

/** Whitespace and the UTF-8 byte order mark, as the response parser's sniffing skips them. */
function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0xef || byte === 0xbb ||
    byte === 0xbf;
}
