/**
 * Anthropic Messages API (`POST /v1/messages`) answers: the SSE event sequence of a streamed text turn
 * (message_start, content_block_start, ping, content_block_delta…, content_block_stop, message_delta with
 * the final usage, message_stop), the JSON message when not streaming, and the error envelope.
 * @module
 */
import { answerChunks, answerText, type FakeBehavior } from "./behavior.ts";
import type { SseEvent } from "./sse.ts";

/** The fields of a request body this fake looks at. */
export interface AnthropicRequest {
  model?: string;
  stream?: boolean;
  messages?: { role?: string; content?: unknown }[];
  tools?: { name?: string }[];
}

/**
 * Whether the scripted tool call answers this request: the request offers the tool (an agent's main loop,
 * not its side requests such as titles) and its last user message does not already bring a tool result.
 */
export function wantsScriptedToolUse(request: AnthropicRequest, tool: { name: string }): boolean {
  if (!(request.tools ?? []).some((t) => t?.name === tool.name)) return false;
  const last = [...(request.messages ?? [])].reverse().find((m) => m.role === "user");
  const bringsResult = Array.isArray(last?.content) &&
    last.content.some((block) => (block as { type?: unknown })?.type === "tool_result");
  return !bringsResult;
}

/** Like the real API, message_start reports the input usage and a provisional `output_tokens` of 1. */
function messageStart(request: AnthropicRequest, behavior: FakeBehavior, id: string): SseEvent {
  return {
    event: "message_start",
    data: {
      type: "message_start",
      message: {
        ...messageShell(request, id),
        usage: usageBlock(behavior, Math.min(1, behavior.usage.output)),
      },
    },
  };
}

/** message_delta with the stop reason and the final, cumulative usage, then message_stop. */
function messageEnd(behavior: FakeBehavior, stopReason: string): SseEvent[] {
  return [
    {
      event: "message_delta",
      data: {
        type: "message_delta",
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: usageBlock(behavior, behavior.usage.output),
      },
    },
    { event: "message_stop", data: { type: "message_stop" } },
  ];
}

/** The events of a streamed `tool_use` answer: the input JSON arrives in three `input_json_delta` parts. */
export function anthropicToolUseEvents(
  request: AnthropicRequest,
  behavior: FakeBehavior,
  id: string,
  tool: { name: string; input: Record<string, unknown> },
): SseEvent[] {
  const json = JSON.stringify(tool.input);
  const third = Math.ceil(json.length / 3);
  const parts = [json.slice(0, third), json.slice(third, 2 * third), json.slice(2 * third)];
  return [
    messageStart(request, behavior, id),
    {
      event: "content_block_start",
      data: {
        type: "content_block_start",
        index: 0,
        content_block: { type: "tool_use", id: `toolu_${id}`, name: tool.name, input: {} },
      },
    },
    ...parts.map((partial_json) => ({
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json } },
    })),
    { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    ...messageEnd(behavior, "tool_use"),
  ];
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

function usageBlock(behavior: FakeBehavior, outputTokens: number): Record<string, number> {
  return {
    input_tokens: behavior.usage.input,
    cache_creation_input_tokens: behavior.usage.cacheWrite,
    cache_read_input_tokens: behavior.usage.cacheRead,
    output_tokens: outputTokens,
  };
}

function messageShell(request: AnthropicRequest, id: string): Record<string, unknown> {
  return {
    id,
    type: "message",
    role: "assistant",
    model: request.model ?? "claude-sonnet-4-5",
    content: [],
    stop_reason: null,
    stop_sequence: null,
  };
}

/**
 * The events of one streamed text answer. Like the real API, message_start reports the input usage and a
 * provisional `output_tokens` of 1; message_delta carries the final, cumulative usage.
 */
export function anthropicStreamEvents(
  request: AnthropicRequest,
  behavior: FakeBehavior,
  id: string,
): SseEvent[] {
  const events: SseEvent[] = [
    messageStart(request, behavior, id),
    {
      event: "content_block_start",
      data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    },
    { event: "ping", data: { type: "ping" } },
  ];
  for (const text of answerChunks(behavior)) {
    events.push({
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
    });
  }
  events.push(
    { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    ...messageEnd(behavior, "end_turn"),
  );
  return events;
}

/** The JSON body of a non-streamed answer. */
export function anthropicMessage(
  request: AnthropicRequest,
  behavior: FakeBehavior,
  id: string,
): Record<string, unknown> {
  return {
    ...messageShell(request, id),
    content: [{ type: "text", text: answerText(behavior) }],
    stop_reason: "end_turn",
    usage: usageBlock(behavior, behavior.usage.output),
  };
}

/** The error envelope for `status`, as `{"type":"error","error":{type,message}}`. */
export function anthropicError(status: number, message: string, requestId: string): Record<string, unknown> {
  return {
    type: "error",
    error: { type: ERROR_TYPES[status] ?? "api_error", message },
    request_id: requestId,
  };
}

/** Answer of `POST /v1/messages/count_tokens`: the configured input usage. */
export function anthropicCountTokens(behavior: FakeBehavior): Record<string, number> {
  return { input_tokens: behavior.usage.input + behavior.usage.cacheRead + behavior.usage.cacheWrite };
}
