import assert from "node:assert/strict";
import {
  CLIENT_PREFACE_LENGTH,
  FrameCursor,
  type FrameHeader,
  goAwayFrame,
  MAX_STREAM_ID,
} from "./h2_frames.ts";

function frame(type: number, flags: number, streamId: number, payloadLength: number): Uint8Array {
  const bytes = new Uint8Array(9 + payloadLength).fill(0xee, 9);
  bytes.set([payloadLength >> 16, (payloadLength >> 8) & 0xff, payloadLength & 0xff, type, flags]);
  new DataView(bytes.buffer).setUint32(5, streamId);
  return bytes;
}

function concat(parts: Uint8Array[]): { bytes: Uint8Array; ends: number[] } {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  const ends: number[] = [];
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
    ends.push(offset);
  }
  return { bytes, ends };
}

/** What a server sends: SETTINGS first, then frames with empty, tiny and larger payloads. */
const server = concat([
  frame(0x4, 0, 0, 6), // SETTINGS
  frame(0x4, 0x1, 0, 0), // SETTINGS ack
  frame(0x1, 0x4, 1, 5), // HEADERS
  frame(0x0, 0, 1, 300), // DATA, length above 255
  frame(0x0, 0x1, 1, 0), // empty DATA with END_STREAM
  frame(0x6, 0x1, 0, 8), // PING ack
]);

/** Every frame end the cursor stops at when fed `chunks`, as offsets into the whole stream. */
function boundaries(chunks: Uint8Array[]): number[] {
  const cursor = new FrameCursor();
  const found: number[] = [];
  let base = 0;
  for (const chunk of chunks) {
    let offset = 0;
    while (offset < chunk.length) {
      offset += cursor.advance(chunk.subarray(offset), { stopAtBoundary: true });
      if (cursor.atBoundary) found.push(base + offset);
    }
    base += chunk.length;
  }
  return found;
}

Deno.test("the cursor stops at every frame end whatever byte the stream is split at", () => {
  assert.deepEqual(boundaries([server.bytes]), server.ends);
  for (let at = 0; at <= server.bytes.length; at++) {
    const parts = [server.bytes.subarray(0, at), server.bytes.subarray(at)];
    assert.deepEqual(boundaries(parts), server.ends, `split at byte ${at}`);
  }
  const oneByOne = Array.from(server.bytes, (_, i) => server.bytes.subarray(i, i + 1));
  assert.deepEqual(boundaries(oneByOne), server.ends);
});

Deno.test("without stopAtBoundary the cursor passes the whole chunk and knows whether it ended a frame", () => {
  for (let at = 0; at <= server.bytes.length; at++) {
    const cursor = new FrameCursor();
    assert.equal(cursor.advance(server.bytes.subarray(0, at)), at);
    assert.equal(cursor.atBoundary, server.ends.includes(at), `after ${at} bytes`);
  }
});

Deno.test("nothing counts as a boundary before the first frame has passed whole", () => {
  const cursor = new FrameCursor();
  assert.equal(cursor.atBoundary, false, "a GOAWAY must not precede the server's SETTINGS");
  cursor.advance(server.bytes.subarray(0, 9));
  assert.equal(cursor.atBoundary, false);
});

Deno.test("after the client preface the cursor reports each frame header, split at any byte", () => {
  const preface = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  assert.equal(preface.length, CLIENT_PREFACE_LENGTH);
  const client = concat([
    preface,
    frame(0x4, 0, 0, 12),
    frame(0x8, 0, 0, 4), // WINDOW_UPDATE
    frame(0x1, 0x5, 1, 40),
    frame(0x1, 0x4, 3, 17),
    frame(0x0, 0x1, 3, 2),
    frame(0x1, 0x5, MAX_STREAM_ID, 0),
  ]);
  const want: FrameHeader[] = [
    { type: 0x4, flags: 0, streamId: 0 },
    { type: 0x8, flags: 0, streamId: 0 },
    { type: 0x1, flags: 0x5, streamId: 1 },
    { type: 0x1, flags: 0x4, streamId: 3 },
    { type: 0x0, flags: 0x1, streamId: 3 },
    { type: 0x1, flags: 0x5, streamId: MAX_STREAM_ID },
  ];
  for (let at = 0; at <= client.bytes.length; at++) {
    const seen: FrameHeader[] = [];
    const cursor = new FrameCursor({ skip: CLIENT_PREFACE_LENGTH, onHeader: (header) => seen.push(header) });
    cursor.advance(client.bytes.subarray(0, at));
    cursor.advance(client.bytes.subarray(at));
    assert.deepEqual(seen, want, `split at byte ${at}`);
    assert.equal(cursor.atBoundary, true);
  }
});

Deno.test("a GOAWAY frame carries the last stream id and NO_ERROR on stream 0", () => {
  assert.deepEqual(
    [...goAwayFrame(5)],
    [0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0],
  );
  assert.deepEqual([...goAwayFrame(MAX_STREAM_ID).subarray(9, 13)], [0x7f, 0xff, 0xff, 0xff]);
  assert.throws(() => goAwayFrame(MAX_STREAM_ID + 1), /lastStreamId must be 0…2\^31−1, got 2147483648/);
});
