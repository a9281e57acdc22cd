/**
 * `createResponseParser`: one incremental parser per response. It chooses the framing (SSE, a JSON body or
 * JSON array, WebSocket messages, AWS event-stream binary frames) from the content type — sniffing the first byte when the type is missing
 * or generic — decodes events as bytes arrive, and hands each to the API's adapter. It never throws: bad
 * input becomes an error in the result, and the result is flagged partial.
 * @module
 */
import type { Json } from "./_json.ts";
import { anthropicMessagesAdapter } from "./anthropic_messages.ts";
import { bedrockConverseAdapter } from "./bedrock_converse.ts";
import { EventStreamDecoder, type EventStreamMessage } from "./bedrock_event_stream.ts";
import { bedrockInvokeAdapter } from "./bedrock_invoke.ts";
import { type EventEnds, EventStreamEnds, JsonValueEnds, SseEventEnds } from "./event_ends.ts";
import { googleGenerateAdapter } from "./google_generate.ts";
import { JsonValueStream } from "./json_stream.ts";
import { openaiChatAdapter } from "./openai_chat.ts";
import { openaiResponsesAdapter } from "./openai_responses.ts";
import { ResponseBuilder, type ResponseParserOptions } from "./response_builder.ts";
import { SseDecoder } from "./sse.ts";
import type { ApiName, ParsedResponse, ResponseParser, StreamEvent } from "./types.ts";
import type { WireAdapter } from "./wire_adapter.ts";

export type { ResponseParserOptions } from "./response_builder.ts";

const DEFAULT_MAX_EVENT = 8 * 1024 * 1024;

/**
 * The adapter for an API, or null for APIs that carry no model output (count_tokens, auxiliary).
 * `pathModel` is the model the URL names (Bedrock reports it as the response's model).
 */
export function adapterFor(api: ApiName, pathModel: string | null = null): WireAdapter | null {
  switch (api) {
    case "bedrock.invoke":
    case "bedrock.invoke_stream":
      return bedrockInvokeAdapter(pathModel);
    case "bedrock.converse":
    case "bedrock.converse_stream":
      return bedrockConverseAdapter(pathModel);
    case "anthropic.messages":
      return anthropicMessagesAdapter();
    case "openai.responses":
    case "openai.responses_ws":
      return openaiResponsesAdapter();
    case "openai.chat_completions":
      return openaiChatAdapter();
    case "google.generate":
    case "google.stream_generate":
    case "google.code_assist_generate":
    case "google.code_assist_stream_generate":
      return googleGenerateAdapter();
    default:
      return null;
  }
}

/**
 * An incremental parser for one response of `api`. `contentType` is the response's `content-type` header
 * (null when absent). For `openai.responses_ws`, feed server messages to `pushMessage`.
 * Auxiliary APIs (count_tokens, settings) get a parser too; it accepts bytes and returns an empty,
 * complete result with no usage.
 * @example
 * const parser = createResponseParser("anthropic.messages", "text/event-stream");
 * for await (const chunk of body) policyChain.events(parser.push(chunk));
 * const parsed = parser.finish(); // text, tool calls, usage, errors
 */
export function createResponseParser(
  api: ApiName,
  contentType: string | null,
  options: ResponseParserOptions = {},
): ResponseParser {
  const adapter = adapterFor(api, options.pathModel ?? null);
  const builder = new ResponseBuilder(options);
  const maxEvent = options.maxEventChars ?? DEFAULT_MAX_EVENT;
  let framing: Framing | null = pickFraming(contentType);
  let sse: SseDecoder | null = null;
  let frames: EventStreamDecoder | null = null;
  let json: JsonValueStream | null = null;
  let result: ParsedResponse | null = null;
  let ends: EventEnds | null = null;
  const wsDecoder = new TextDecoder();

  function handle(name: string | null, text: string): void {
    if (!adapter) return;
    if (text === "[DONE]") {
      adapter.done?.(builder);
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      builder.malformed(`${name ? `event "${name}"` : "event"} has invalid JSON (${text.length} characters)`);
      return;
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      builder.malformed(`${name ? `event "${name}"` : "event"} is not a JSON object`);
      return;
    }
    try {
      adapter.event(builder, name, data as Json);
    } catch (error) {
      builder.malformed(
        `${api} adapter failed on an event: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  function consume(chunk: Uint8Array | null): void {
    if (framing === null && chunk !== null) framing = sniff(chunk);
    if (framing === "json") {
      json ??= new JsonValueStream({ maxValueChars: maxEvent });
      const out = chunk === null ? json.end() : json.push(chunk);
      for (const error of out.errors) builder.malformed(error);
      for (const value of out.values) handle(null, value);
    } else if (framing === "eventstream") {
      frames ??= new EventStreamDecoder({ maxMessageBytes: maxEvent });
      const out = chunk === null ? frames.end() : frames.push(chunk);
      for (const error of out.errors) builder.malformed(error);
      for (const message of out.messages) eventStreamMessage(message);
    } else if (framing === "sse") {
      sse ??= new SseDecoder({ maxLineChars: maxEvent });
      const out = chunk === null ? sse.end() : sse.push(chunk);
      for (const error of out.errors) builder.malformed(error);
      for (const event of out.events) handle(event.event, event.data);
    }
  }

  /** An event-stream message: events go to the adapter by `:event-type`, exceptions end the response. */
  function eventStreamMessage(message: EventStreamMessage): void {
    const kind = message.headers[":message-type"];
    const text = new TextDecoder().decode(message.payload);
    if (kind === "exception" || kind === "error") {
      let reason = text;
      try {
        reason = String(JSON.parse(text).message ?? text);
      } catch { /* a payload that is no JSON is its own message */ }
      builder.providerError(
        message.headers[":exception-type"] ?? message.headers[":error-code"] ?? kind,
        reason,
      );
      builder.terminal();
      return;
    }
    handle(message.headers[":event-type"] ?? null, text);
  }

  function safely(work: () => void): StreamEvent[] {
    if (result) return [];
    try {
      work();
    } catch (error) {
      builder.malformed(`parser failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return builder.drain();
  }

  return {
    push(chunk: Uint8Array): StreamEvent[] {
      return safely(() => consume(chunk));
    },
    pushFindingFinal(chunk: Uint8Array) {
      let finalAt: number | null = null;
      const events = safely(() => {
        if (framing === null) framing = sniff(chunk);
        if (framing !== null) ends ??= endsFor(framing);
        // One piece per event end: the piece after which the builder turns terminal holds the final event.
        const cuts = ends?.ends(chunk) ?? [];
        let from = 0;
        for (const to of cuts.length === 0 ? [chunk.length] : [...cuts, chunk.length]) {
          if (to <= from) continue;
          const before = builder.isTerminal;
          consume(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
          if (finalAt === null && !before && builder.isTerminal) finalAt = from;
          from = to;
        }
      });
      return { events, finalAt };
    },
    pushMessage(message: string | Uint8Array): StreamEvent[] {
      return safely(() => {
        const text = typeof message === "string" ? message : wsDecoder.decode(message);
        if (text.length > maxEvent) {
          builder.malformed(`WebSocket message longer than ${maxEvent} characters was dropped`);
        } else handle(null, text);
      });
    },
    finish(): ParsedResponse {
      if (result) return result;
      safely(() => consume(null));
      result = adapter ? builder.result() : nothingParsed();
      return result;
    },
  };
}

/** The result for APIs that carry no model output: empty, and not partial (nothing was expected). */
function nothingParsed(): ParsedResponse {
  return {
    id: null,
    model: null,
    text: "",
    thinking: "",
    toolCalls: [],
    stopReason: null,
    usage: null,
    errors: [],
    partial: false,
  };
}

type Framing = "sse" | "json" | "eventstream";

function endsFor(framing: Framing): EventEnds {
  if (framing === "sse") return new SseEventEnds();
  return framing === "eventstream" ? new EventStreamEnds() : new JsonValueEnds();
}

function pickFraming(contentType: string | null): Framing | null {
  const type = (contentType ?? "").toLowerCase();
  if (type.includes("vnd.amazon.eventstream")) return "eventstream";
  if (type.includes("event-stream")) return "sse";
  if (type.includes("json")) return "json";
  return null;
}

/** Decides the framing from the first non-blank byte when the content type did not say. */
function sniff(chunk: Uint8Array): Framing | null {
  // An event-stream message starts with its 4-byte length, whose first byte is 0 below 16 MiB.
  if (chunk.length > 0 && chunk[0] === 0) return "eventstream";
  for (const byte of chunk) {
    if (
      byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0xef || byte === 0xbb ||
      byte === 0xbf
    ) {
      continue;
    }
    return byte === 0x7b || byte === 0x5b ? "json" : "sse";
  }
  return null;
}
