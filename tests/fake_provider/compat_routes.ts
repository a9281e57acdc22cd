/**
 * The fake's Azure OpenAI and OpenRouter routes: both speak OpenAI's Chat Completions and Responses, each
 * with its own paths and quirks, so these reuse the OpenAI generators and add what differs.
 * - Azure: `/openai/deployments/{deployment}/chat/completions|responses`, `/openai/v1/…`, `/openai/…`
 *   (`?api-version=` accepted and ignored). A deployment is the customer's name for a model, so the fake
 *   answers as the model behind every deployment, {@link AZURE_MODEL}; a Chat stream starts with Azure's
 *   prompt-filter chunk (empty `id` and `model`).
 * - OpenRouter: `/api/v1/chat/completions|responses`, `vendor/model` ids echoed back, a
 *   `: OPENROUTER PROCESSING` comment first, and `usage.cost` ({@link openrouterCost}) beside the tokens.
 * @module
 */
import type { FakeBehavior } from "./behavior.ts";
import { chatJson, type ChatRequest, chatStreamEvents } from "./openai_chat.ts";
import { responsesJson, type ResponsesRequest, responsesStreamEvents } from "./openai_responses.ts";
import { type SseEvent, sseResponse } from "./sse.ts";

/** The model the fake's Azure resource serves behind every deployment name. */
export const AZURE_MODEL = "gpt-5-2025-08-07";

/** Which OpenAI-compatible API a path of Azure or OpenRouter is, or null for none of theirs. */
export function compatApi(
  pathname: string,
): { vendor: "azure" | "openrouter"; api: "chat" | "responses" } | null {
  const azure = /^\/openai\/(?:deployments\/[^/]+\/|v1\/)?(chat\/completions|responses)$/.exec(pathname);
  if (azure) return { vendor: "azure", api: azure[1] === "responses" ? "responses" : "chat" };
  const openrouter = /^\/api\/v1\/(chat\/completions|responses)$/.exec(pathname);
  if (openrouter) return { vendor: "openrouter", api: openrouter[1] === "responses" ? "responses" : "chat" };
  return null;
}

/** The USD cost OpenRouter reports for the fake's usage: $1 per Mtok in, $4 per Mtok out (made up, exact). */
export function openrouterCost(behavior: FakeBehavior): number {
  const u = behavior.usage;
  return ((u.input + u.cacheRead) * 1 + u.output * 4) / 1e6;
}

/** Azure's first Chat chunk: prompt filter results, before the model is named. */
const AZURE_PROMPT_FILTER: SseEvent = {
  data: {
    choices: [],
    created: 0,
    id: "",
    model: "",
    object: "",
    prompt_filter_results: [{
      prompt_index: 0,
      content_filter_results: { hate: { filtered: false, severity: "safe" } },
    }],
  },
};

/** What a compat route needs from the router. */
export interface CompatContext {
  behavior: FakeBehavior;
  nextId: (prefix: string) => string;
  signal: AbortSignal;
}

/** Answers a model request on an Azure or OpenRouter path (`route` is from {@link compatApi}). */
export function compatResponse(
  route: NonNullable<ReturnType<typeof compatApi>>,
  body: Record<string, unknown>,
  ctx: CompatContext,
): Response {
  const { behavior } = ctx;
  const azure = route.vendor === "azure";
  const model = azure ? AZURE_MODEL : typeof body.model === "string" ? body.model : "openai/gpt-5";
  const headers: Record<string, string> = azure
    ? { "apim-request-id": ctx.nextId("apim"), "x-ms-region": "Sweden Central" }
    : { "x-generation-id": ctx.nextId("gen") };
  const cost = openrouterCost(behavior);
  if (route.api === "responses") {
    const request = { ...body, model } as ResponsesRequest;
    const ids = { response: ctx.nextId(azure ? "resp" : "gen"), message: ctx.nextId("msg") };
    if (!request.stream) {
      const whole = responsesJson(request, behavior, ids);
      return json(azure ? whole : withCost(whole, "usage", cost), headers);
    }
    let events = responsesStreamEvents(request, behavior, ids);
    if (!azure) events = [PROCESSING, ...events.map((e) => costOnCompleted(e, cost))];
    return sseResponse(events, { behavior, signal: ctx.signal, headers });
  }
  const request = { ...body, model } as ChatRequest;
  const id = ctx.nextId(azure ? "chatcmpl" : "gen");
  if (!request.stream) {
    const whole = chatJson(request, behavior, id);
    return json(azure ? whole : withCost(whole, "usage", cost), headers);
  }
  const events = chatStreamEvents(request, behavior, id);
  const sent = azure
    ? [AZURE_PROMPT_FILTER, ...events]
    : [PROCESSING, ...events.map((e) => withUsageCost(e, cost))];
  return sseResponse(sent, { behavior, signal: ctx.signal, headers });
}

const PROCESSING: SseEvent = { comment: "OPENROUTER PROCESSING", data: null };

function json(body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { ...headers, "content-type": "application/json" },
  });
}

function withCost(body: Record<string, unknown>, key: string, cost: number): Record<string, unknown> {
  const usage = body[key];
  return typeof usage === "object" && usage !== null
    ? { ...body, [key]: { ...usage, cost, is_byok: false } }
    : body;
}

/** A Chat chunk that carries usage gets OpenRouter's cost beside it. */
function withUsageCost(event: SseEvent, cost: number): SseEvent {
  const data = event.data;
  if (typeof data !== "object" || data === null || !("usage" in data) || !data.usage) return event;
  return { ...event, data: withCost(data as Record<string, unknown>, "usage", cost) };
}

/** `response.completed` gets OpenRouter's cost in its response's usage. */
function costOnCompleted(event: SseEvent, cost: number): SseEvent {
  const data = event.data as Record<string, unknown> | null;
  if (event.event !== "response.completed" || typeof data?.response !== "object" || data.response === null) {
    return event;
  }
  return {
    ...event,
    data: { ...data, response: withCost(data.response as Record<string, unknown>, "usage", cost) },
  };
}
