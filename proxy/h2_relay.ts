/**
 * Relays an h2 client connection and its pipe into the inner server both ways, like `pipe()` (same byte
 * order, same backpressure), while following frame boundaries so that drain can slip a GOAWAY of its own
 * between two of the inner server's frames, and learn the highest stream the client opened.
 * @module
 */
import type net from "node:net";
import type { Buffer } from "node:buffer";
import { CLIENT_PREFACE_LENGTH, FrameCursor, goAwayFrame, HEADERS } from "./h2_frames.ts";
import type { H2PipeHandle } from "./inflight.ts";

/**
 * Starts relaying `client` ↔ `inner` and returns drain's controls. Ends and errors stay with the caller.
 * @example
 * const relay = relayH2(tlsSocket, innerSocket);
 * relay.goAway(0x7fffffff); // "open no more streams", written at the next frame boundary
 */
export function relayH2(client: net.Socket, inner: net.Socket): Pick<H2PipeHandle, "goAway" | "lastStream"> {
  const last = { id: 0, at: -Infinity };
  const fromClient = new FrameCursor({
    skip: CLIENT_PREFACE_LENGTH,
    onHeader(header) {
      if (header.type !== HEADERS || header.streamId <= last.id) return;
      last.id = header.streamId;
      last.at = performance.now();
    },
  });
  const fromInner = new FrameCursor();
  /** GOAWAYs asked for while the inner server was inside a frame (or before its first one). */
  const pending: Uint8Array[] = [];

  client.on("data", (chunk: Buffer) => {
    fromClient.advance(chunk);
    // Once drain ended the pipe (after its last GOAWAY), nothing the client sends is for the server.
    if (inner.writableEnded) return;
    if (!inner.write(chunk)) waitForDrain(client, inner);
  });
  inner.on("data", (chunk: Buffer) => {
    if (client.writableEnded) return;
    let flowing = true;
    let offset = 0;
    if (pending.length > 0) {
      // Up to the first frame end in this chunk (or all of it while still inside a frame).
      offset = fromInner.advance(chunk, { stopAtBoundary: true });
      flowing = client.write(chunk.subarray(0, offset));
      if (fromInner.atBoundary) {
        for (const frame of pending.splice(0)) flowing = client.write(frame) && flowing;
      }
    }
    if (offset < chunk.length) {
      fromInner.advance(chunk.subarray(offset));
      flowing = client.write(chunk.subarray(offset)) && flowing;
    }
    if (!flowing) waitForDrain(inner, client);
  });

  return {
    goAway(lastStreamId) {
      const frame = goAwayFrame(lastStreamId);
      if (pending.length === 0 && fromInner.atBoundary && !client.writableEnded) client.write(frame);
      else pending.push(frame);
    },
    lastStream: () => ({ ...last }),
  };
}

/** Backpressure as `pipe()` does it: the source waits while the sink's buffer is full. */
function waitForDrain(source: net.Socket, sink: net.Socket): void {
  source.pause();
  sink.once("drain", () => source.resume());
}
