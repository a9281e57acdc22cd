/**
 * The interface between the proxy and capture. The proxy calls these methods on the hot path, so every
 * method must return at once: implementations enqueue and do hashing, gzip, disk and database work
 * behind the traffic. Bytes handed over are owned by the sink (the proxy never reuses a chunk).
 * @module
 */
import type { Exchange, WsMessage } from "../core/exchange.ts";
import type { ParsedRequest, ParsedResponse } from "../providers/types.ts";

/** Per-exchange handle returned by `CaptureSink.begin`. */
export interface ExchangeTap {
  /** A chunk of the request body exactly as sent upstream (after policies). */
  requestChunk(chunk: Uint8Array): void;
  /** A chunk of the response body as delivered to the client (decoded). */
  responseChunk(chunk: Uint8Array): void;
  /** A relayed WebSocket message. */
  wsMessage(message: WsMessage): void;
  /**
   * The exchange is over (`exchange.outcome` is set). `parsed` carries what the provider parsers made of
   * it, `null` for exchanges that are not model turns.
   * In `strict` durability the proxy awaits the returned promise before releasing the response's final
   * event (`message_stop`, `[DONE]`, a turn's last WebSocket message…) and its end of stream; in `batched`
   * it does not wait. The final event's bytes reach `responseChunk` before `end`, like all others.
   */
  end(exchange: Exchange, parsed: CaptureParsed | null): Promise<void>;
}

/** Provider-level understanding of the exchange, attached at its end. */
export interface CaptureParsed {
  request: ParsedRequest | null;
  response: ParsedResponse | null;
}

/** Where the proxy hands exchanges for persistence. */
export interface CaptureSink {
  begin(exchange: Exchange): ExchangeTap;
  /** Flush what is pending and stop; called on shutdown. */
  close(): Promise<void>;
}

/** A sink that drops everything: capture off. */
export const nullSink: CaptureSink = {
  begin: () => ({ requestChunk() {}, responseChunk() {}, wsMessage() {}, end: () => Promise.resolve() }),
  close: () => Promise.resolve(),
};
