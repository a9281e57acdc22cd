/**
 * A capture sink that keeps everything in memory, for tests of the proxy: what the proxy hands to
 * capture is exactly what a real sink would receive.
 */
import type { CaptureParsed, CaptureSink, ExchangeTap } from "../../capture/sink.ts";
import type { Exchange, WsMessage } from "../../core/exchange.ts";

export interface CapturedExchange {
  exchange: Exchange;
  request: Uint8Array;
  response: Uint8Array;
  ws: WsMessage[];
  parsed: CaptureParsed | null;
}

export class MemorySink implements CaptureSink {
  readonly done: CapturedExchange[] = [];
  readonly started: Exchange[] = [];
  #waiters: (() => void)[] = [];

  begin(exchange: Exchange): ExchangeTap {
    this.started.push(exchange);
    const request: Uint8Array[] = [];
    const response: Uint8Array[] = [];
    const ws: WsMessage[] = [];
    return {
      requestChunk: (chunk) => request.push(chunk),
      responseChunk: (chunk) => response.push(chunk),
      wsMessage: (message) => ws.push(message),
      end: (ex, parsed) => {
        // A snapshot, as the real pipeline takes one: later mutation must not show up here.
        this.done.push({
          exchange: structuredClone(ex),
          request: concat(request),
          response: concat(response),
          ws,
          parsed,
        });
        for (const wake of this.#waiters.splice(0)) wake();
        return Promise.resolve();
      },
    };
  }

  /** Resolves once `count` exchanges have ended (or rejects after `timeoutMs`). */
  async waitFor(count: number, timeoutMs = 5000): Promise<CapturedExchange[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.done.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.done.length} of ${count} exchanges ended`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.done;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
