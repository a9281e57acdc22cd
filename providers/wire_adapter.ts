/**
 * What a wire-format adapter implements: it receives each decoded JSON event (an SSE event's data, one JSON
 * body or array element, one WebSocket message) and translates it into `ResponseBuilder` calls. Framing —
 * bytes to events — is done once for all adapters in response_parser.ts.
 * @module
 */
import type { Json } from "./_json.ts";
import type { ResponseBuilder } from "./response_builder.ts";

/** One adapter instance per response: adapters may keep state (raw cumulative usage, open blocks). */
export interface WireAdapter {
  /** One decoded JSON object; `name` is the SSE `event:` field, or null when there is none. */
  event(b: ResponseBuilder, name: string | null, data: Json): void;
  /** The SSE `data: [DONE]` sentinel (OpenAI Chat Completions). */
  done?(b: ResponseBuilder): void;
}
