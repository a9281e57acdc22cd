/**
 * Server-sent events as the providers send them: one `write` per event, a configurable pause between
 * events, and an optional abort after N events (the connection dies without the final chunk, as when a
 * provider's edge drops a stream).
 * @module
 */
import type { FakeBehavior } from "./behavior.ts";

/**
 * One event: `event:` line (omitted when absent, as Gemini and Chat Completions do) and JSON data; or, with
 * `comment`, a comment line (OpenRouter's `: OPENROUTER PROCESSING` keep-alive), which carries no data.
 */
export interface SseEvent {
  event?: string;
  comment?: string;
  /** Serialized with JSON.stringify unless it is already a string (e.g. `[DONE]`). */
  data: unknown;
}

/** Line ending between events: Gemini separates events with CRLF pairs, the others with LF pairs. */
export type SseFlavor = "lf" | "crlf";

/** Pause before cutting a stream, so what was sent before the cut is on the wire. */
const CUT_FLUSH_MS = 20;

/** Encodes one event exactly as it goes on the wire. */
export function encodeSseEvent(event: SseEvent, flavor: SseFlavor = "lf"): string {
  const nl = flavor === "crlf" ? "\r\n" : "\n";
  if (event.comment !== undefined) return `: ${event.comment}${nl}${nl}`;
  const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data);
  const head = event.event === undefined ? "" : `event: ${event.event}${nl}`;
  return `${head}data: ${data}${nl}${nl}`;
}

/** Sleeps `ms` milliseconds unless `signal` aborts first; resolves false when aborted. */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!signal?.aborted);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      resolve(false);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A streaming `text/event-stream` response that sends `events` one by one, honouring
 * `behavior.eventDelayMs` and `behavior.closeAfterEvents`. Stops early when the client goes away.
 */
export function sseResponse(
  events: SseEvent[],
  options: { behavior: FakeBehavior; signal: AbortSignal; flavor?: SseFlavor; headers?: HeadersInit },
): Response {
  const { behavior, signal } = options;
  const encoder = new TextEncoder();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= events.length) {
        controller.close();
        return;
      }
      if (behavior.closeAfterEvents !== undefined && sent >= behavior.closeAfterEvents) {
        // Let the events already written reach the client first (hyper batches them with the head).
        await pause(Math.max(behavior.eventDelayMs, CUT_FLUSH_MS), signal);
        controller.error(new Error(`fake provider cut the stream after ${sent} events`));
        return;
      }
      if (sent > 0 && !(await pause(behavior.eventDelayMs, signal))) {
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(encodeSseEvent(events[sent], options.flavor)));
      sent++;
    },
  });
  const headers = new Headers(options.headers);
  headers.set("content-type", "text/event-stream; charset=utf-8");
  headers.set("cache-control", "no-cache");
  return new Response(body, { status: 200, headers });
}
