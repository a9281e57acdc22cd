/**
 * What the fake provider answers and how: the text, the token usage it reports, and the failure modes
 * end-to-end tests need (slow streams, error statuses, streams cut short). One mutable object per fake,
 * so a test can change it between two requests.
 * @module
 */

/**
 * Provider-neutral token usage. Each wire format maps it the way the real provider reports it:
 *
 * | field | Anthropic | OpenAI Responses / Chat | Gemini |
 * |---|---|---|---|
 * | `input` | `input_tokens` | `input_tokens` / `prompt_tokens` = input + cacheRead | `promptTokenCount` = input + cacheRead |
 * | `cacheRead` | `cache_read_input_tokens` | `input_tokens_details.cached_tokens` | `cachedContentTokenCount` |
 * | `cacheWrite` | `cache_creation_input_tokens` | — | — |
 * | `output` | `output_tokens` | `output_tokens` / `completion_tokens` | `candidatesTokenCount` + `thoughtsTokenCount` |
 * | `reasoning` | (part of output) | `output_tokens_details.reasoning_tokens` | `thoughtsTokenCount` |
 */
export interface FakeUsage {
  /** Fresh (uncached) input tokens. */
  input: number;
  /** Output tokens, reasoning included. */
  output: number;
  /** Input tokens read from the prompt cache. */
  cacheRead: number;
  /** Input tokens written to the prompt cache (Anthropic only). */
  cacheWrite: number;
  /** Part of `output` spent on reasoning. */
  reasoning: number;
}

/** How the fake answers every model request (not the auxiliary endpoints). */
export interface FakeBehavior {
  /** The answer; an array streams each element as its own delta event (joined, it is the answer). */
  answer: string | string[];
  /** Reported token usage, the same on every model request. */
  usage: FakeUsage;
  /** Milliseconds to wait before each streamed event after the first (0: send them back to back). */
  eventDelayMs: number;
  /** When set, model requests get this HTTP status with the provider's error body instead of an answer. */
  failStatus?: number;
  /** When set, a stream is cut (connection aborted, WebSocket closed with 1011) after this many events. */
  closeAfterEvents?: number;
  /** When true, a WebSocket upgrade to `/v1/responses` gets `426` (Codex then falls back to HTTP). */
  refuseWebSocket: boolean;
  /**
   * Anthropic only: a request whose last user message carries no `tool_result` is answered with this
   * `tool_use` instead of text (stop reason `tool_use`); the request that brings the result back gets the
   * text answer. Lets a real agent run a tool through the gateway.
   */
  toolScript?: { name: string; input: Record<string, unknown> };
  /**
   * OpenAI Responses (SSE and WebSocket) and Gemini `streamGenerateContent`: a request that offers a
   * function tool of this name and brings no function output back (`function_call_output`,
   * `functionResponse`) is answered with this call instead of text; the request that brings the output
   * back gets the text answer. Lets Codex and Gemini CLI run a tool through the gateway.
   */
  functionCallScript?: { name: string; arguments: Record<string, unknown> };
}

/** The answer every fake gives unless a test says otherwise. */
export const DEFAULT_ANSWER = "RECONDO-FAKE-OK";

/** Deterministic usage so end-to-end tests can assert exact token counts. */
export const DEFAULT_USAGE: Readonly<FakeUsage> = {
  input: 21,
  output: 7,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
};

/** Builds a complete behavior from a partial one (usage fields merge with the defaults). */
export function resolveBehavior(partial: Partial<Omit<FakeBehavior, "usage">> & {
  usage?: Partial<FakeUsage>;
} = {}): FakeBehavior {
  return {
    answer: partial.answer ?? DEFAULT_ANSWER,
    usage: { ...DEFAULT_USAGE, ...partial.usage },
    eventDelayMs: partial.eventDelayMs ?? 0,
    failStatus: partial.failStatus,
    closeAfterEvents: partial.closeAfterEvents,
    refuseWebSocket: partial.refuseWebSocket ?? false,
    toolScript: partial.toolScript,
    functionCallScript: partial.functionCallScript,
  };
}

/** The answer as the list of streamed deltas. */
export function answerChunks(behavior: FakeBehavior): string[] {
  return typeof behavior.answer === "string" ? [behavior.answer] : behavior.answer;
}

/** The whole answer text. */
export function answerText(behavior: FakeBehavior): string {
  return answerChunks(behavior).join("");
}

/** Sequential ids (`msg_fake_0001`): deterministic, unlike the providers' random ones. */
export function idMaker(): (prefix: string) => string {
  let n = 0;
  return (prefix) => `${prefix}_fake_${String(++n).padStart(4, "0")}`;
}
