/**
 * The contract between the provider adapters and the rest of the gateway. The proxy detects the API of
 * each exchange, feeds response bytes (or WebSocket messages) to a parser as they arrive, hands the
 * parsed events to the policy chain, and gives the final summary to capture.
 * @module
 */
import type { ProviderName } from "../core/exchange.ts";

/** Which wire format an exchange uses. */
export type ApiName =
  | "anthropic.messages"
  | "anthropic.count_tokens"
  | "anthropic.auxiliary"
  | "openai.chat_completions"
  | "openai.responses"
  | "openai.responses_ws"
  | "openai.auxiliary"
  | "google.generate"
  | "google.stream_generate"
  | "google.code_assist_generate"
  | "google.code_assist_stream_generate"
  | "google.auxiliary"
  | "bedrock.invoke"
  | "bedrock.invoke_stream"
  | "bedrock.converse"
  | "bedrock.converse_stream"
  | "bedrock.auxiliary";

/** What `detectApi` recognised. `isModelTurn` is false for count_tokens and auxiliary endpoints. */
export interface ApiMatch {
  provider: ProviderName;
  api: ApiName;
  isModelTurn: boolean;
  /** A model named by the URL (Gemini puts it in the path), else `null`. */
  pathModel: string | null;
}

/**
 * Token usage with one meaning across providers:
 * `input` = prompt tokens billed at the base input rate (neither read from nor written to a cache),
 * `cacheRead`, `cacheWrite5m`/`cacheWrite1h` (Anthropic keeps the two durations apart),
 * `output` = every generated token billed at the output rate (reasoning included),
 * `reasoning` = the part of `output` that was reasoning.
 * `estimated` is true only when the provider reported nothing and the numbers were estimated.
 */
export interface Usage {
  input: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  output: number;
  reasoning: number;
  estimated: boolean;
}

/** A parsed response event, as response policy hooks see it (never raw byte chunks). */
export type StreamEvent =
  | { type: "message_start"; id: string | null; model: string | null }
  | { type: "text_delta"; index: number; text: string }
  | { type: "thinking_delta"; index: number; text: string; redacted: boolean }
  | { type: "tool_call_start"; index: number; id: string; name: string; server: boolean }
  | { type: "tool_call_delta"; index: number; argumentsDelta: string }
  | { type: "tool_call_end"; index: number; id: string; name: string; arguments: string }
  | { type: "usage"; usage: Usage }
  | { type: "stop"; reason: string | null }
  | { type: "error"; errorType: string; message: string };

/** A tool call assembled from its deltas. */
export interface ToolCall {
  id: string;
  name: string;
  /** The argument JSON text exactly as the model produced it (may be invalid when truncated). */
  arguments: string;
  /** Server-side tools (web search, code execution) run by the provider, not the client. */
  server: boolean;
}

/** Everything parsed from one response, incrementally built and final after `finish()`. */
export interface ParsedResponse {
  id: string | null;
  model: string | null;
  text: string;
  thinking: string;
  toolCalls: ToolCall[];
  stopReason: string | null;
  usage: Usage | null;
  /** Error events from the provider, or parse errors (then the result is partial). */
  errors: string[];
  /** True when the stream ended before its terminal event or had malformed data. */
  partial: boolean;
  /** Refusal text when the model declined (OpenAI `refusal` content); absent otherwise. */
  refusal?: string;
  /** How many thinking blocks were redacted (encrypted by the provider, so not in `thinking`). */
  redactedThinkingBlocks?: number;
  /**
   * The cost the provider itself reported, in USD (OpenRouter's `usage.cost`), recorded beside the cost
   * Recondo computes from its price tables; absent when the provider reported none.
   */
  providerCostUsd?: number;
  /** Things ignored without harm (event types this version does not know); they do not make it partial. */
  warnings?: string[];
}

/** Incremental response parser: `push` bytes as they arrive, `finish` at the end. Never throws. */
export interface ResponseParser {
  push(chunk: Uint8Array): StreamEvent[];
  /**
   * `push`, and where in `chunk` the response's final event begins when this chunk completes it (the event
   * a client takes as the answer being done: Anthropic `message_stop`, Chat `data: [DONE]`, Responses
   * `response.completed`, Gemini's chunk with a `finishReason`, the last brace of a JSON body, or a provider
   * `error`). `finalAt` is the offset just after the event before it (0 when the final event began in an
   * earlier chunk); null when this chunk did not complete it. Strict durability holds the bytes from there
   * on until the record is durable. Feed one response through either this or `push`, not both: it keeps
   * byte state of its own across chunks.
   * @example
   * const { finalAt } = parser.pushFindingFinal(chunk);
   * if (finalAt !== null) send(chunk.subarray(0, finalAt)); // and hold chunk.subarray(finalAt)
   */
  pushFindingFinal(chunk: Uint8Array): { events: StreamEvent[]; finalAt: number | null };
  /** For WebSocket APIs: one message from the server. */
  pushMessage?(message: string): StreamEvent[];
  finish(): ParsedResponse;
}

/** What a request body says, in one shape across providers. */
export interface ParsedRequest {
  model: string | null;
  stream: boolean;
  system: string | null;
  /** The new user content of this turn, client preambles and trailing system notes skipped. */
  userText: string | null;
  toolsOffered: string[];
  /** Tool results this request returns, by the id of the call they answer. */
  toolResults: { callId: string; content: string; isError: boolean }[];
  /** Upper bound on output tokens when the request states one (`max_tokens`, `max_output_tokens`). */
  maxOutputTokens: number | null;
  /** Client-given session identity and continuity hints. */
  sessionHints: { sessionId: string | null; previousResponseId: string | null };
  messageCount: number;
  /** Codex's WebSocket warm-up (`generate: false`): no model output is asked for. */
  prewarm?: boolean;
  /** Why the body could not be parsed (not JSON, not an object); the other fields are then empty. */
  error?: string;
}
