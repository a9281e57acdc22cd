/**
 * OpenAI Responses API answers (`POST /v1/responses`, and the same events over the WebSocket mode):
 * response.created, response.in_progress, output_item/content_part added, output_text.delta…,
 * output_text.done, content_part/output_item done, response.completed with usage. Every event carries a
 * `sequence_number`. A WebSocket prewarm (`generate: false`) gets only created + completed, no output.
 * @module
 */
import { answerChunks, answerText, type FakeBehavior } from "./behavior.ts";
import type { SseEvent } from "./sse.ts";

/** The fields of a request body (or `response.create` frame) this fake looks at. */
export interface ResponsesRequest {
  model?: string;
  stream?: boolean;
  generate?: boolean;
  previous_response_id?: string;
  store?: boolean;
  tools?: { type?: string; name?: string }[];
  input?: unknown;
}

/** Ids for one answer: the response and its single output message. */
export interface ResponsesIds {
  response: string;
  message: string;
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "invalid_request_error",
  403: "invalid_request_error",
  404: "invalid_request_error",
  429: "rate_limit_exceeded",
  500: "server_error",
  503: "server_error",
};

/** Usage in the Responses shape; `input_tokens` includes cached tokens, as OpenAI counts them. */
export function responsesUsage(behavior: FakeBehavior): Record<string, unknown> {
  const u = behavior.usage;
  const input = u.input + u.cacheRead;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cacheRead },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: input + u.output,
  };
}

const ZERO_USAGE = {
  input_tokens: 0,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 0,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 0,
};

function responseObject(
  request: ResponsesRequest,
  id: string,
  fields: { status: string; output: unknown[]; usage: unknown },
): Record<string, unknown> {
  return {
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: fields.status,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: request.model ?? "gpt-5",
    output: fields.output,
    parallel_tool_calls: true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: request.store ?? false,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage: fields.usage,
    metadata: {},
  };
}

function messageItem(id: string, status: string, text: string | undefined): Record<string, unknown> {
  return {
    id,
    type: "message",
    status,
    role: "assistant",
    content: text === undefined ? [] : [{ type: "output_text", text, annotations: [], logprobs: [] }],
  };
}

/** The stream events of one answer (SSE `event:` names equal each payload's `type`). */
export function responsesStreamEvents(
  request: ResponsesRequest,
  behavior: FakeBehavior,
  ids: ResponsesIds,
): SseEvent[] {
  const payloads: Record<string, unknown>[] = [];
  const inProgress = responseObject(request, ids.response, {
    status: "in_progress",
    output: [],
    usage: null,
  });
  payloads.push({ type: "response.created", response: inProgress });
  if (request.generate === false) {
    payloads.push({
      type: "response.completed",
      response: responseObject(request, ids.response, { status: "completed", output: [], usage: ZERO_USAGE }),
    });
    return numbered(payloads);
  }
  const script = behavior.functionCallScript;
  if (script && wantsScriptedFunctionCall(request, script)) {
    return numbered([
      ...payloads,
      ...functionCallPayloads(request, ids, script, responsesUsage(behavior)),
    ]);
  }
  const text = answerText(behavior);
  const where = { item_id: ids.message, output_index: 0, content_index: 0 };
  payloads.push(
    { type: "response.in_progress", response: inProgress },
    {
      type: "response.output_item.added",
      output_index: 0,
      item: messageItem(ids.message, "in_progress", undefined),
    },
    {
      type: "response.content_part.added",
      ...where,
      part: { type: "output_text", text: "", annotations: [] },
    },
  );
  for (const delta of answerChunks(behavior)) {
    payloads.push({ type: "response.output_text.delta", ...where, delta, logprobs: [] });
  }
  const done = messageItem(ids.message, "completed", text);
  payloads.push(
    { type: "response.output_text.done", ...where, text, logprobs: [] },
    { type: "response.content_part.done", ...where, part: { type: "output_text", text, annotations: [] } },
    { type: "response.output_item.done", output_index: 0, item: done },
    {
      type: "response.completed",
      response: responseObject(request, ids.response, {
        status: "completed",
        output: [done],
        usage: responsesUsage(behavior),
      }),
    },
  );
  return numbered(payloads);
}

/** Whether `request` offers the scripted function and does not yet bring a function's output back. */
export function wantsScriptedFunctionCall(request: ResponsesRequest, script: { name: string }): boolean {
  if (!(request.tools ?? []).some((t) => t?.name === script.name)) return false;
  const input = Array.isArray(request.input) ? request.input : [];
  return !input.some((item) => (item as { type?: unknown })?.type === "function_call_output");
}

/** The events after `response.created` of an answer that is one `function_call` item. */
function functionCallPayloads(
  request: ResponsesRequest,
  ids: ResponsesIds,
  script: { name: string; arguments: Record<string, unknown> },
  usage: unknown,
): Record<string, unknown>[] {
  const args = JSON.stringify(script.arguments);
  const itemId = ids.message.replace(/^msg_/, "fc_");
  const callId = ids.message.replace(/^msg_/, "call_");
  const item = (status: string, argumentsText: string) => ({
    id: itemId,
    type: "function_call",
    status,
    call_id: callId,
    name: script.name,
    arguments: argumentsText,
  });
  const done = item("completed", args);
  return [
    { type: "response.output_item.added", output_index: 0, item: item("in_progress", "") },
    { type: "response.function_call_arguments.delta", item_id: itemId, output_index: 0, delta: args },
    { type: "response.function_call_arguments.done", item_id: itemId, output_index: 0, arguments: args },
    { type: "response.output_item.done", output_index: 0, item: done },
    {
      type: "response.completed",
      response: responseObject(request, ids.response, { status: "completed", output: [done], usage }),
    },
  ];
}

function numbered(payloads: Record<string, unknown>[]): SseEvent[] {
  return payloads.map((p, i) => ({ event: String(p.type), data: { ...p, sequence_number: i } }));
}

/** The JSON body of a non-streamed answer. */
export function responsesJson(
  request: ResponsesRequest,
  behavior: FakeBehavior,
  ids: ResponsesIds,
): Record<string, unknown> {
  return responseObject(request, ids.response, {
    status: "completed",
    output: [messageItem(ids.message, "completed", answerText(behavior))],
    usage: responsesUsage(behavior),
  });
}

/** OpenAI's error envelope (shared by Responses and Chat Completions). */
export function openaiError(status: number, message: string): Record<string, unknown> {
  return {
    error: {
      message,
      type: ERROR_TYPES[status] ?? "server_error",
      param: null,
      code: status === 429 ? "rate_limit_exceeded" : null,
    },
  };
}

/** The WebSocket-mode error event for a failed `response.create`. */
export function responsesWsError(status: number, message: string): Record<string, unknown> {
  return { type: "error", status, error: openaiError(status, message).error };
}
