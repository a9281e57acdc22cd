/**
 * Where the h2 frames are in a byte stream, cheaply enough to run on every chunk of every h2 connection:
 * only the 9-byte frame headers are read (RFC 9113 §4.1), payloads are skipped by counting. Drain uses it
 * to write a GOAWAY between two frames the inner server sent, and to learn the highest stream the client
 * opened.
 * @module
 */

/** The client connection preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, that precedes the client's frames. */
export const CLIENT_PREFACE_LENGTH = 24;

/** Frame type HEADERS (RFC 9113 §6.2): the frame that opens a stream. */
export const HEADERS = 0x1;

/** The largest stream id (2^31 − 1): a GOAWAY with it says "stop opening streams" and refuses none. */
export const MAX_STREAM_ID = 0x7fffffff;

/** A frame header as read: its type, flags and stream id (the payload is never read). */
export interface FrameHeader {
  type: number;
  flags: number;
  streamId: number;
}

/**
 * Follows frame boundaries over chunks split anywhere (inside a header too).
 * @example
 * const cursor = new FrameCursor();
 * const n = cursor.advance(chunk, { stopAtBoundary: true }); // bytes up to the first frame end in `chunk`
 * if (cursor.atBoundary) socket.write(goAwayFrame(0x7fffffff));
 */
export class FrameCursor {
  #skip: number;
  #payload = 0;
  readonly #head = new Uint8Array(9);
  #headLength = 0;
  #frames = 0;
  readonly #onHeader?: (header: FrameHeader) => void;

  /**
   * `skip`: bytes before the first frame (the client preface, on the client's side; the server starts
   * directly with frames). `onHeader` sees each frame header as soon as it is complete.
   */
  constructor(options: { skip?: number; onHeader?: (header: FrameHeader) => void } = {}) {
    this.#skip = options.skip ?? 0;
    this.#onHeader = options.onHeader;
  }

  /**
   * Whether everything passed so far ends exactly at the end of a frame, and at least one whole frame has
   * passed (the server's first frame must be its SETTINGS, so nothing may go before it).
   */
  get atBoundary(): boolean {
    return this.#frames > 0 && this.#payload === 0 && this.#headLength === 0 && this.#skip === 0;
  }

  /**
   * Moves over `chunk` and returns how many of its bytes it passed: all of them, or with `stopAtBoundary`
   * only those up to the first frame end in it (then `atBoundary` is true).
   */
  advance(chunk: Uint8Array, options: { stopAtBoundary?: boolean } = {}): number {
    const stop = options.stopAtBoundary === true;
    const length = chunk.length;
    let i = 0;
    while (i < length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, length - i);
        this.#skip -= n;
        i += n;
      } else if (this.#payload > 0) {
        const n = Math.min(this.#payload, length - i);
        this.#payload -= n;
        i += n;
        if (this.#payload === 0 && this.#frameEnded(stop)) return i;
      } else {
        this.#head[this.#headLength++] = chunk[i++];
        if (this.#headLength < 9) continue;
        this.#headLength = 0;
        const head = this.#head;
        this.#payload = (head[0] << 16) | (head[1] << 8) | head[2];
        this.#onHeader?.({
          type: head[3],
          flags: head[4],
          streamId: ((head[5] & 0x7f) << 24 | head[6] << 16 | head[7] << 8 | head[8]) >>> 0,
        });
        if (this.#payload === 0 && this.#frameEnded(stop)) return i;
      }
    }
    return i;
  }

  #frameEnded(stop: boolean): boolean {
    this.#frames++;
    return stop;
  }
}

/**
 * A GOAWAY frame (RFC 9113 §6.8) with error code NO_ERROR: the sender will process no stream above
 * `lastStreamId` and the peer should open no more on this connection.
 */
export function goAwayFrame(lastStreamId: number): Uint8Array {
  if (!Number.isInteger(lastStreamId) || lastStreamId < 0 || lastStreamId > MAX_STREAM_ID) {
    throw new RangeError(`Cannot build GOAWAY: lastStreamId must be 0…2^31−1, got ${lastStreamId}`);
  }
  const frame = new Uint8Array(17);
  const view = new DataView(frame.buffer);
  frame[2] = 8; // length
  frame[3] = 0x7; // type GOAWAY; flags 0, stream 0
  view.setUint32(9, lastStreamId); // R bit 0
  view.setUint32(13, 0); // NO_ERROR
  return frame;
}
