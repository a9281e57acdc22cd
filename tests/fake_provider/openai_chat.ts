/**
 * OpenAI Chat Completions answers (`POST /v1/chat/completions`): `chat.completion.chunk` SSE lines
 * (no `event:` field) ending with `data: [DONE]`, a usage chunk with empty `choices` when the request
 * asks for `stream_options.include_usage`, and the `chat.completion` JSON when not streaming.
 * @module
 */
import { answerChunks, answerText, type FakeBehavior } from "./behavior.ts";
import type { SseEvent } from "./sse.ts";

/** The fields of a request body this fake looks at. */
export interface ChatRequest {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

/** Usage in the Chat Completions shape (`prompt_tokens` includes cached tokens). */
export function chatUsage(behavior: FakeBehavior): Record<string, unknown> {
  const u = behavior.usage;
  const prompt = u.input + u.cacheRead;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output,
    total_tokens: prompt + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  };
}

function chunk(request: ChatRequest, id: string, rest: Record<string, unknown>): SseEvent {
  return {
    data: {
      id,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: request.model ?? "gpt-5",
      system_fingerprint: null,
      ...rest,
    },
  };
}

/** The SSE events of one streamed answer, `[DONE]` included. */
export function chatStreamEvents(request: ChatRequest, behavior: FakeBehavior, id: string): SseEvent[] {
  const events: SseEvent[] = [
    chunk(request, id, {
      choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }],
    }),
  ];
  for (const content of answerChunks(behavior)) {
    events.push(chunk(request, id, {
      choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
    }));
  }
  events.push(chunk(request, id, {
    choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }],
  }));
  if (request.stream_options?.include_usage) {
    events.push(chunk(request, id, { choices: [], usage: chatUsage(behavior) }));
  }
  events.push({ data: "[DONE]" });
  return events;
}

/** The JSON body of a non-streamed answer. */
export function chatJson(request: ChatRequest, behavior: FakeBehavior, id: string): Record<string, unknown> {
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: request.model ?? "gpt-5",
    choices: [{
      index: 0,
      message: { role: "assistant", content: answerText(behavior), refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage: chatUsage(behavior),
    system_fingerprint: null,
  };
}
