/**
 * Amazon Bedrock runtime answers (`/model/{modelId}/{invoke|invoke-with-response-stream|converse|
 * converse-stream}`), as the AWS SDKs and Claude Code's Bedrock mode expect them: InvokeModel carries the
 * Anthropic Messages format, streamed as AWS event-stream `chunk` frames whose payload is
 * `{"bytes": "<base64 event JSON>", "p": "<padding>"}` (the last one with `amazon-bedrock-invocationMetrics`);
 * Converse is AWS's own format. Errors are `{"message"}` with `x-amzn-errortype`.
 * @module
 */
import { encodeEventStreamMessage } from "../../providers/bedrock_event_stream.ts";
import {
  anthropicMessage,
  type AnthropicRequest,
  anthropicStreamEvents,
  anthropicToolUseEvents,
  wantsScriptedToolUse,
} from "./anthropic_messages.ts";
import { answerChunks, answerText, type FakeBehavior } from "./behavior.ts";
import { pause } from "./sse.ts";

const EXCEPTIONS: Record<number, string> = {
  400: "ValidationException",
  403: "AccessDeniedException",
  404: "ResourceNotFoundException",
  429: "ThrottlingException",
  500: "InternalServerException",
  503: "ServiceUnavailableException",
};

const encoder = new TextEncoder();

/** Whether a path is a Bedrock runtime model operation; returns its decoded model id and operation. */
export function parseBedrockPath(pathname: string): { model: string; operation: string } | null {
  const match = /^\/model\/([^/]+)\/([a-z-]+)$/.exec(pathname);
  return match ? { model: decodeURIComponent(match[1]), operation: match[2] } : null;
}

/** A Bedrock error response: `{"message"}` and the exception name in `x-amzn-errortype`. */
export function bedrockError(status: number, message: string): Response {
  return new Response(JSON.stringify({ message }), {
    status,
    headers: {
      "content-type": "application/json",
      "x-amzn-errortype": `${
        EXCEPTIONS[status] ?? "InternalServerException"
      }:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    },
  });
}

/** Answers one Bedrock runtime request whose body parsed as `body`. */
export function bedrockRoute(
  req: Request,
  path: { model: string; operation: string },
  body: Record<string, unknown>,
  behavior: FakeBehavior,
  id: string,
): Response {
  const request = body as AnthropicRequest;
  switch (path.operation) {
    case "invoke":
      return json(anthropicMessage({ ...request, model: baseModel(path.model) }, behavior, id));
    case "invoke-with-response-stream": {
      const shaped = { ...request, model: baseModel(path.model) };
      const tool = behavior.toolScript;
      const events = tool && wantsScriptedToolUse(request, tool)
        ? anthropicToolUseEvents(shaped, behavior, id, tool)
        : anthropicStreamEvents(shaped, behavior, id);
      return frameResponse(events.map((event) => invokeChunk(event.data, behavior)), behavior, req.signal);
    }
    case "converse":
      return json({
        output: { message: { role: "assistant", content: [{ text: answerText(behavior) }] } },
        stopReason: "end_turn",
        usage: converseUsage(behavior),
        metrics: { latencyMs: 12 },
      });
    case "converse-stream":
      return frameResponse(converseFrames(behavior), behavior, req.signal);
    default:
      return bedrockError(404, `fake provider has no Bedrock operation ${path.operation}`);
  }
}

/** The model the fake's application inference profiles (`…:application-inference-profile/<id>`) serve. */
export const APP_PROFILE_MODEL = "claude-sonnet-4-5-20250929";

/** Bedrock answers with the base model's name, whatever profile was invoked. */
function baseModel(id: string): string {
  if (/^arn:[^:]*:bedrock:[^:]*:[^:]*:application-inference-profile\//.test(id)) return APP_PROFILE_MODEL;
  return id.replace(/^(?:[a-z]{2,4}|global)\.anthropic\./, "").replace(/^anthropic\./, "").replace(
    /-v\d+:\d+$/,
    "",
  );
}

function invokeChunk(data: unknown, behavior: FakeBehavior): Uint8Array {
  const event = data as Record<string, unknown>;
  const withMetrics = event.type === "message_stop"
    ? {
      ...event,
      "amazon-bedrock-invocationMetrics": {
        inputTokenCount: behavior.usage.input,
        outputTokenCount: behavior.usage.output,
        invocationLatency: 20,
        firstByteLatency: 5,
      },
    }
    : event;
  const bytes = btoa(String.fromCharCode(...encoder.encode(JSON.stringify(withMetrics))));
  return frame("chunk", { bytes, p: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ".slice(0, 1 + bytes.length % 30) });
}

function converseFrames(behavior: FakeBehavior): Uint8Array[] {
  return [
    frame("messageStart", { role: "assistant" }),
    ...answerChunks(behavior).map((text) =>
      frame("contentBlockDelta", { contentBlockIndex: 0, delta: { text } })
    ),
    frame("contentBlockStop", { contentBlockIndex: 0 }),
    frame("messageStop", { stopReason: "end_turn" }),
    frame("metadata", { usage: converseUsage(behavior), metrics: { latencyMs: 12 } }),
  ];
}

function converseUsage(behavior: FakeBehavior): Record<string, number> {
  const { input, output, cacheRead, cacheWrite } = behavior.usage;
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output + cacheRead + cacheWrite,
    cacheReadInputTokens: cacheRead,
    cacheWriteInputTokens: cacheWrite,
  };
}

function frame(eventType: string, payload: unknown): Uint8Array {
  return encodeEventStreamMessage(
    { ":event-type": eventType, ":content-type": "application/json", ":message-type": "event" },
    encoder.encode(JSON.stringify(payload)),
  );
}

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json", "x-amzn-requestid": crypto.randomUUID() },
  });
}

/** Streams the frames one write each, honouring `eventDelayMs` and `closeAfterEvents` like the SSE fakes. */
function frameResponse(frames: Uint8Array[], behavior: FakeBehavior, signal: AbortSignal): Response {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= frames.length) return controller.close();
      if (behavior.closeAfterEvents !== undefined && sent >= behavior.closeAfterEvents) {
        await pause(Math.max(behavior.eventDelayMs, 20), signal);
        return controller.error(new Error(`fake provider cut the stream after ${sent} frames`));
      }
      if (sent > 0 && !(await pause(behavior.eventDelayMs, signal))) return controller.close();
      controller.enqueue(frames[sent++]);
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "application/vnd.amazon.eventstream",
      "x-amzn-requestid": crypto.randomUUID(),
      "x-amzn-bedrock-content-type": "application/json",
    },
  });
}
