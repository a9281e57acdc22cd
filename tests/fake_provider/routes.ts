/**
 * Request routing of the fake provider: which wire format answers which method and path.
 * @module
 */
import type { FakeBehavior } from "./behavior.ts";
import { bedrockError, bedrockRoute, parseBedrockPath } from "./bedrock.ts";
import {
  anthropicCountTokens,
  anthropicError,
  anthropicMessage,
  type AnthropicRequest,
  anthropicStreamEvents,
  anthropicToolUseEvents,
  wantsScriptedToolUse,
} from "./anthropic_messages.ts";
import {
  geminiError,
  geminiFunctionCallEvents,
  geminiJson,
  type GeminiRequest,
  geminiStreamEvents,
  parseGeminiPath,
  wantsScriptedGeminiCall,
} from "./gemini_generate.ts";
import { compatApi, compatResponse } from "./compat_routes.ts";
import type { RecordedRequest } from "./mod.ts";
import { chatJson, type ChatRequest, chatStreamEvents } from "./openai_chat.ts";
import {
  openaiError,
  responsesJson,
  type ResponsesRequest,
  responsesStreamEvents,
} from "./openai_responses.ts";
import { sseResponse } from "./sse.ts";
import { isVertexClaudeCall, parseVertexPath, VERTEX_ANTHROPIC_VERSION, type VertexPath } from "./vertex.ts";
import { serveResponsesWebSocket } from "./websocket_responses.ts";

/** What the router needs from the running fake. */
export interface RouteContext {
  behavior: () => FakeBehavior;
  nextId: (prefix: string) => string;
  onSocket: (socket: WebSocket) => void;
}

type Family = "anthropic" | "openai" | "gemini";

function json(body: unknown, status: number, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

function errorFor(family: Family, status: number, message: string, ctx: RouteContext): Response {
  if (family === "anthropic") {
    const requestId = ctx.nextId("req");
    return json(anthropicError(status, message, requestId), status, { "request-id": requestId });
  }
  if (family === "gemini") return json(geminiError(status, message), status);
  return json(openaiError(status, message), status, { "x-request-id": ctx.nextId("req") });
}

function parseBody<T>(recorded: RecordedRequest): T | undefined {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(recorded.body));
    return typeof parsed === "object" && parsed !== null ? parsed as T : undefined;
  } catch {
    return undefined;
  }
}

/** Answers one request (the body is already read into `recorded`). */
export function route(req: Request, recorded: RecordedRequest, ctx: RouteContext): Response {
  const { pathname } = new URL(req.url);
  const behavior = ctx.behavior();
  const vertex = parseVertexPath(pathname);
  if (vertex) return vertexRoute(req, recorded, vertex, ctx);
  const compat = compatApi(pathname);
  // Azure and OpenRouter answer errors in OpenAI's shape (OpenRouter's `/api/` is not Anthropic's).
  const family: Family = compat || pathname.startsWith("/openai/") || pathname.startsWith("/api/v1/")
    ? "openai"
    : pathname.startsWith("/v1beta/") || pathname.startsWith("/v1alpha/")
    ? "gemini"
    : pathname.startsWith("/v1/messages") || pathname.startsWith("/api/")
    ? "anthropic"
    : "openai";

  if (req.method === "GET" && pathname === "/v1/responses" && recorded.headers.get("upgrade")) {
    if (behavior.refuseWebSocket) return errorFor("openai", 426, "fake provider refuses WebSocket", ctx);
    recorded.wsMessages = [];
    const response = serveResponsesWebSocket(req, {
      behavior: ctx.behavior,
      ids: () => ({ response: ctx.nextId("resp"), message: ctx.nextId("msg") }),
      onMessage: (text) => recorded.wsMessages?.push(text),
      onSocket: ctx.onSocket,
    });
    return response;
  }
  if (req.method === "GET" && pathname === "/api/claude_code/settings") return json({}, 200);
  if (req.method !== "POST") {
    return errorFor(family, 404, `fake provider has no route for ${req.method} ${pathname}`, ctx);
  }

  const bedrock = parseBedrockPath(pathname);
  if (bedrock) {
    if (behavior.failStatus !== undefined) {
      return bedrockError(behavior.failStatus, `fake provider fails with ${behavior.failStatus}`);
    }
    const body = parseBody<Record<string, unknown>>(recorded);
    if (body === undefined) return bedrockError(400, "fake provider got a body that is not JSON");
    return bedrockRoute(req, bedrock, body, behavior, ctx.nextId("msg_bdrk"));
  }
  const isModelCall = compat !== null || pathname === "/v1/messages" || pathname === "/v1/responses" ||
    pathname === "/v1/chat/completions" ||
    /GenerateContent$|^generateContent$/.test(parseGeminiPath(pathname)?.method ?? "");
  if (isModelCall && behavior.failStatus !== undefined) {
    return errorFor(family, behavior.failStatus, `fake provider fails with ${behavior.failStatus}`, ctx);
  }
  const body = parseBody<Record<string, unknown>>(recorded);
  if (isModelCall && body === undefined) {
    return errorFor(family, 400, "fake provider got a body that is not JSON", ctx);
  }

  if (pathname === "/v1/messages") return anthropicAnswer(req, body as AnthropicRequest, ctx);
  if (compat) {
    return compatResponse(compat, body!, { behavior, nextId: ctx.nextId, signal: req.signal });
  }
  if (pathname === "/v1/messages/count_tokens") return json(anthropicCountTokens(behavior), 200);
  if (pathname === "/v1/responses") {
    const request = body as ResponsesRequest;
    const ids = { response: ctx.nextId("resp"), message: ctx.nextId("msg") };
    const headers = { "x-request-id": ctx.nextId("req") };
    if (request.stream) {
      return sseResponse(responsesStreamEvents(request, behavior, ids), {
        behavior,
        signal: req.signal,
        headers,
      });
    }
    return json(responsesJson(request, behavior, ids), 200, headers);
  }
  if (pathname === "/v1/chat/completions") {
    const request = body as ChatRequest;
    const id = ctx.nextId("chatcmpl");
    const headers = { "x-request-id": ctx.nextId("req") };
    if (request.stream) {
      return sseResponse(chatStreamEvents(request, behavior, id), { behavior, signal: req.signal, headers });
    }
    return json(chatJson(request, behavior, id), 200, headers);
  }
  const gemini = parseGeminiPath(pathname);
  return (gemini && geminiAnswer(req, gemini, body, ctx)) ??
    errorFor(family, 404, `fake provider has no route for ${req.method} ${pathname}`, ctx);
}

/** A Messages answer: streamed (text, or the scripted tool call) when the body asks for a stream. */
function anthropicAnswer(req: Request, request: AnthropicRequest, ctx: RouteContext): Response {
  const behavior = ctx.behavior();
  const id = ctx.nextId("msg");
  const headers = { "request-id": ctx.nextId("req") };
  const tool = behavior.toolScript;
  const stream = { behavior, signal: req.signal, headers };
  if (request.stream && tool && wantsScriptedToolUse(request, tool)) {
    return sseResponse(anthropicToolUseEvents(request, behavior, id, tool), stream);
  }
  if (request.stream) return sseResponse(anthropicStreamEvents(request, behavior, id), stream);
  return json(anthropicMessage(request, behavior, id), 200, headers);
}

/** A generateContent answer (SSE with `alt=sse`, else a JSON array), or null for another method. */
function geminiAnswer(
  req: Request,
  gemini: { model: string; method: string },
  body: Record<string, unknown> | undefined,
  ctx: RouteContext,
): Response | null {
  const behavior = ctx.behavior();
  if (gemini.method === "streamGenerateContent") {
    const script = behavior.functionCallScript;
    const events = script && wantsScriptedGeminiCall(body as GeminiRequest, script)
      ? geminiFunctionCallEvents(gemini.model, behavior, ctx.nextId("gemresp"), script)
      : geminiStreamEvents(gemini.model, behavior, ctx.nextId("gemresp"));
    if (new URL(req.url).searchParams.get("alt") === "sse") {
      return sseResponse(events, { behavior, signal: req.signal, flavor: "crlf" });
    }
    return json(events.map((e) => e.data), 200);
  }
  if (gemini.method === "generateContent") {
    return json(geminiJson(gemini.model, behavior, ctx.nextId("gemresp"), body), 200);
  }
  if (gemini.method === "countTokens") {
    return json({ totalTokens: behavior.usage.input + behavior.usage.cacheRead }, 200);
  }
  return null;
}

/**
 * Vertex AI: Claude in the Messages format (the model from the path, `anthropic_version` required in the
 * body, as Vertex does), Gemini as on the Gemini API; each publisher's errors in its own format.
 */
function vertexRoute(
  req: Request,
  recorded: RecordedRequest,
  vertex: VertexPath,
  ctx: RouteContext,
): Response {
  const family: Family = vertex.publisher === "anthropic" ? "anthropic" : "gemini";
  const noRoute = () =>
    errorFor(family, 404, `fake provider has no Vertex route for ${req.method} ${req.url}`, ctx);
  if (req.method !== "POST") return noRoute();
  const claude = isVertexClaudeCall(vertex);
  const isModelCall = claude || /GenerateContent$|^generateContent$/.test(vertex.method);
  const behavior = ctx.behavior();
  if (isModelCall && behavior.failStatus !== undefined) {
    return errorFor(family, behavior.failStatus, `fake provider fails with ${behavior.failStatus}`, ctx);
  }
  const body = parseBody<Record<string, unknown>>(recorded);
  if (isModelCall && body === undefined) {
    return errorFor(family, 400, "fake provider got a body that is not JSON", ctx);
  }
  if (vertex.publisher === "anthropic") {
    if (vertex.model === "count-tokens" && vertex.method === "rawPredict") {
      return json(anthropicCountTokens(behavior), 200);
    }
    if (!claude) return noRoute();
    if (body?.anthropic_version !== VERTEX_ANTHROPIC_VERSION) {
      return errorFor(family, 400, `anthropic_version must be "${VERTEX_ANTHROPIC_VERSION}"`, ctx);
    }
    return anthropicAnswer(req, { ...body, model: vertex.model } as AnthropicRequest, ctx);
  }
  if (vertex.publisher !== "google") return noRoute();
  return geminiAnswer(req, vertex, body, ctx) ?? noRoute();
}
