/**
 * A bare h2 client for drain tests, frame by frame over a socket: unlike `node:http2` it lets a test see
 * every frame the gateway sends, in order (both GOAWAYs), and open a stream after a GOAWAY, which a
 * well-behaved client library refuses to do.
 * @module
 */
import type net from "node:net";
import { Buffer } from "node:buffer";

/** One frame the server sent. */
export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

export const DATA = 0x0;
export const GOAWAY = 0x7;
const SETTINGS = 0x4;
const END_STREAM = 0x1;

/** A GOAWAY's last stream id and error code. */
export function goAwayOf(frame: RawFrame): { lastStreamId: number; errorCode: number } {
  return {
    lastStreamId: frame.payload.readUInt32BE(0) & 0x7fffffff,
    errorCode: frame.payload.readUInt32BE(4),
  };
}

/** Whether a DATA frame ends its stream. */
export function endsStream(frame: RawFrame): boolean {
  return (frame.flags & END_STREAM) !== 0;
}

/** Speaks h2 on `socket` (after ALPN h2): sends the preface, acknowledges SETTINGS, records every frame. */
export function rawH2(socket: net.Socket) {
  const frames: RawFrame[] = [];
  const waiters = new Set<() => void>();
  let buffered = Buffer.alloc(0);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 9 && buffered.length >= 9 + buffered.readUIntBE(0, 3)) {
      const length = buffered.readUIntBE(0, 3);
      const frame = {
        type: buffered[3],
        flags: buffered[4],
        streamId: buffered.readUInt32BE(5) & 0x7fffffff,
        payload: buffered.subarray(9, 9 + length),
      };
      buffered = buffered.subarray(9 + length);
      frames.push(frame);
      if (frame.type === SETTINGS && (frame.flags & 0x1) === 0) socket.write(frameBytes(SETTINGS, 0x1, 0));
    }
    for (const wake of [...waiters]) wake();
  });
  socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  socket.write(frameBytes(SETTINGS, 0, 0));
  return {
    /** Every frame received so far, in order. */
    frames,
    /** Resolves when the server closed the connection. */
    closed,
    /** Opens stream `streamId` with `GET https://authority/path` (no body). */
    get(streamId: number, authority: string, path: string): void {
      // HPACK: :method GET and :scheme https from the static table, :path and :authority as literals
      // without indexing (names from the static table).
      const block = Buffer.concat([Buffer.from([0x82, 0x87]), literal(4, path), literal(1, authority)]);
      socket.write(frameBytes(0x1, 0x4 | END_STREAM, streamId, block));
    },
    /** Resolves with the first frame (in order of arrival) that matches, rejects if the connection closes. */
    next(predicate: (frame: RawFrame, index: number) => boolean): Promise<RawFrame> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.find(predicate);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (socket.destroyed) {
            waiters.delete(check);
            reject(new Error(`connection closed before the frame; got types ${frames.map((f) => f.type)}`));
          }
        };
        waiters.add(check);
        socket.once("close", check);
        check();
      });
    },
  };
}

function frameBytes(type: number, flags: number, streamId: number, payload = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

function literal(nameIndex: number, value: string): Buffer {
  const bytes = Buffer.from(value, "latin1");
  if (bytes.length > 126) {
    throw new RangeError(`Cannot encode header value: ${bytes.length} bytes, at most 126`);
  }
  return Buffer.concat([Buffer.from([nameIndex, bytes.length]), bytes]);
}
