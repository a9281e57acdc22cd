/**
 * The AWS event-stream binary framing (`application/vnd.amazon.eventstream`) that Bedrock's
 * `InvokeModelWithResponseStream` and `ConverseStream` answer with. Each message is a 12-byte prelude (total
 * length, headers length, prelude CRC32), typed headers (`:message-type`, `:event-type`, `:exception-type`,
 * `:content-type`), a payload and a message CRC32, all big-endian. Bytes arrive split anywhere; this
 * decoder buffers at most one message (bounded by `maxMessageBytes`) and hands whole ones to the maintained
 * codec of the AWS SDK (`@smithy/eventstream-codec`), which checks both CRCs and decodes the headers.
 * @module
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

/** One decoded message: its headers as text (non-string header values stringified) and its payload. */
export interface EventStreamMessage {
  headers: Record<string, string>;
  payload: Uint8Array;
}

/** What one `push` or `end` produced: whole messages, and problems met (bad CRC, oversized, cut off). */
export interface EventStreamOutput {
  messages: EventStreamMessage[];
  errors: string[];
}

/** The smallest valid message: prelude (12) and message CRC (4), no headers, no payload. */
export const MIN_MESSAGE_BYTES = 16;
const DEFAULT_MAX_MESSAGE = 8 * 1024 * 1024;
const codec = new EventStreamCodec(toUtf8, fromUtf8);

/**
 * Decodes an event-stream byte stream incrementally.
 * @example
 * const decoder = new EventStreamDecoder();
 * for (const chunk of chunks) for (const m of decoder.push(chunk).messages) m.headers[":event-type"]; // "chunk"
 */
export class EventStreamDecoder {
  readonly #max: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Set once the framing is lost (a length that cannot be right): nothing after it can be trusted. */
  #broken = false;

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.#max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
  }

  push(chunk: Uint8Array): EventStreamOutput {
    const out: EventStreamOutput = { messages: [], errors: [] };
    if (this.#broken || chunk.length === 0) return out;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    while (this.#pendingBytes >= 4) {
      const total = this.#peekLength();
      if (total < MIN_MESSAGE_BYTES || total > this.#max) {
        this.#broken = true;
        this.#pending = [];
        this.#pendingBytes = 0;
        out.errors.push(
          `event-stream message length ${total} is outside ${MIN_MESSAGE_BYTES}..${this.#max} bytes; ` +
            `the rest of the stream was not decoded`,
        );
        return out;
      }
      if (this.#pendingBytes < total) break;
      this.#decode(this.#take(total), out);
    }
    // The caller may reuse its buffer once push returns: keep a copy of what stays pending from it.
    const last = this.#pending.at(-1);
    if (last && last.buffer === chunk.buffer) this.#pending[this.#pending.length - 1] = last.slice();
    return out;
  }

  /** Ends the stream: bytes of a message that never completed are reported, not guessed at. */
  end(): EventStreamOutput {
    const out: EventStreamOutput = { messages: [], errors: [] };
    if (this.#pendingBytes > 0) {
      out.errors.push(`event-stream ended inside a message (${this.#pendingBytes} bytes left over)`);
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    return out;
  }

  #decode(bytes: Uint8Array, out: EventStreamOutput): void {
    try {
      const message = codec.decode(bytes);
      const headers: Record<string, string> = {};
      for (const [name, header] of Object.entries(message.headers)) headers[name] = String(header.value);
      out.messages.push({ headers, payload: message.body });
    } catch (error) {
      out.errors.push(
        `event-stream message of ${bytes.length} bytes is invalid: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  }

  /** The big-endian total length in the first 4 pending bytes, which may span chunks. */
  #peekLength(): number {
    let value = 0;
    let read = 0;
    for (const part of this.#pending) {
      for (let i = 0; i < part.length && read < 4; i++, read++) value = value * 256 + part[i];
      if (read === 4) break;
    }
    return value;
  }

  /** Removes the first `length` pending bytes and returns them as one array. */
  #take(length: number): Uint8Array {
    const first = this.#pending[0];
    if (first.length >= length) {
      const bytes = first.subarray(0, length);
      if (first.length === length) this.#pending.shift();
      else this.#pending[0] = first.subarray(length);
      this.#pendingBytes -= length;
      return bytes;
    }
    const bytes = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const part = this.#pending[0];
      const used = Math.min(part.length, length - filled);
      bytes.set(part.subarray(0, used), filled);
      filled += used;
      if (used === part.length) this.#pending.shift();
      else this.#pending[0] = part.subarray(used);
    }
    this.#pendingBytes -= length;
    return bytes;
  }
}

/**
 * Encodes one message (the fake provider and tests build real frames with it).
 * @example encodeEventStreamMessage({ ":message-type": "event", ":event-type": "chunk" }, payloadBytes)
 */
export function encodeEventStreamMessage(headers: Record<string, string>, payload: Uint8Array): Uint8Array {
  const typed = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, { type: "string" as const, value }]),
  );
  return codec.encode({ headers: typed, body: payload });
}
