/**
 * What one written capture record becomes in OpenTelemetry, following the GenAI semantic conventions: the
 * span's name (`{operation} {model}`, e.g. `chat claude-sonnet-4-5`), its times (the exchange's own, so the
 * span is created after the fact), its `gen_ai.*` attributes, Recondo's own under `recondo.*`, and the
 * attributes of the GenAI client metrics. Pure data, no SDK: `export.ts` hands it to the SDK.
 * @module
 */
import type { AttributeValue } from "@opentelemetry/api";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from "@opentelemetry/semantic-conventions";
import {
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
} from "@opentelemetry/semantic-conventions/incubating";
import type { ProviderName } from "../../core/exchange.ts";
import type { WrittenRecord } from "../persist_types.ts";

/** The span of one exchange, ready for `tracer.startSpan`. */
export interface SpanSpec {
  name: string;
  start: Date;
  end: Date;
  attributes: Record<string, AttributeValue>;
  /** `error.type` when the exchange failed (HTTP status ≥ 400 or an outcome other than complete). */
  errorType: string | null;
}

/** Attributes shared by the GenAI client metrics of one exchange (`gen_ai.client.*`). */
export interface MetricSpec {
  attributes: Record<string, AttributeValue>;
  durationSeconds: number;
  /** `null` when the exchange reported no usage (not a model turn, or cut before it). */
  tokens: { input: number; output: number } | null;
  errorType: string | null;
}

/** `gen_ai.operation.name` of an API; `null` for endpoints that are no model call (count_tokens, auxiliary). */
export function operationOf(api: string | null): string | null {
  switch (api) {
    case "anthropic.messages":
    case "openai.chat_completions":
    case "openai.responses":
    case "openai.responses_ws":
    case "bedrock.invoke":
    case "bedrock.invoke_stream":
    case "bedrock.converse":
    case "bedrock.converse_stream":
      return "chat";
    case "google.generate":
    case "google.stream_generate":
    case "google.code_assist_generate":
    case "google.code_assist_stream_generate":
      return "generate_content";
    default:
      return null;
  }
}

/**
 * `gen_ai.provider.name` as the spec's well-known values: Gemini's API (AI Studio) is `gcp.gemini`, Vertex AI
 * (`*aiplatform.googleapis.com`, Gemini or Claude) `gcp.vertex_ai`; Code Assist (Gemini CLI signed in with
 * Google) is no Gemini API endpoint, so `gcp.gen_ai`. Bedrock is `aws.bedrock`, Azure OpenAI
 * `azure.ai.openai`; OpenRouter has no well-known value, so its own name, as the spec allows.
 */
export function providerNameOf(provider: ProviderName, api: string | null, host = ""): string | null {
  switch (provider) {
    case "anthropic":
    case "openai":
    case "openrouter":
      return provider;
    case "bedrock":
      return "aws.bedrock";
    case "azure":
      return "azure.ai.openai";
    case "google":
      if (host.endsWith("aiplatform.googleapis.com")) return "gcp.vertex_ai";
      return api?.startsWith("google.code_assist") ? "gcp.gen_ai" : "gcp.gemini";
    default:
      return null;
  }
}

/**
 * The operation of a written exchange. A WebSocket connection, and Codex's warm-up on it, are no model
 * call of their own (their records carry no response): only the connection's turns are.
 */
function operationOfRecord(written: WrittenRecord): string | null {
  const { exchange, parsed } = written.record;
  if (exchange.kind === "websocket" && !parsed?.response) return null;
  return operationOf(exchange.api);
}

function errorTypeOf(written: WrittenRecord): string | null {
  const ex = written.record.exchange;
  if (ex.outcome && ex.outcome !== "complete") return ex.outcome;
  const status = ex.response?.status ?? null;
  return status !== null && status >= 400 ? String(status) : null;
}

/** Attributes of both the span and the metrics: what the GenAI spec lists as metric attributes. */
function commonAttributes(written: WrittenRecord): Record<string, AttributeValue> {
  const ex = written.record.exchange;
  const { request, response } = written.record.parsed ?? { request: null, response: null };
  const out: Record<string, AttributeValue> = {
    [ATTR_SERVER_ADDRESS]: ex.target.host,
    [ATTR_SERVER_PORT]: ex.target.port,
  };
  const operation = operationOfRecord(written);
  if (operation) out[ATTR_GEN_AI_OPERATION_NAME] = operation;
  const provider = providerNameOf(ex.provider, ex.api, ex.target.host);
  if (provider) {
    out[ATTR_GEN_AI_PROVIDER_NAME] = provider;
    // Deprecated by gen_ai.provider.name, still read by many backends.
    out[ATTR_GEN_AI_SYSTEM] = provider;
  }
  if (request?.model) out[ATTR_GEN_AI_REQUEST_MODEL] = request.model;
  if (response?.model) out[ATTR_GEN_AI_RESPONSE_MODEL] = response.model;
  return out;
}

/** The span of a written record. `capturePrompts` adds the prompt and completion text. */
export function spanOf(written: WrittenRecord, options: { capturePrompts: boolean }): SpanSpec {
  const { record } = written;
  const ex = record.exchange;
  const { request, response } = record.parsed ?? { request: null, response: null };
  const attributes = commonAttributes(written);
  const operation = operationOfRecord(written);
  const model = response?.model ?? request?.model ?? null;
  const name = operation
    ? (model ? `${operation} ${model}` : operation)
    : `${ex.request.method} ${ex.api ?? ex.provider}`;
  if (response?.id) attributes[ATTR_GEN_AI_RESPONSE_ID] = response.id;
  if (response?.stopReason) attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [response.stopReason];
  if (response?.usage) {
    const u = response.usage;
    attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = u.input + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h;
    attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = u.output;
    attributes[ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = u.cacheRead;
    attributes[ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = u.cacheWrite5m + u.cacheWrite1h;
    if (u.reasoning) attributes[ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = u.reasoning;
  }
  if (request?.maxOutputTokens) attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = request.maxOutputTokens;
  if (request) attributes[ATTR_GEN_AI_REQUEST_STREAM] = request.stream;
  if (written.sessionId) attributes[ATTR_GEN_AI_CONVERSATION_ID] = written.sessionId;
  if (ex.response) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = ex.response.status;
  const errorType = errorTypeOf(written);
  if (errorType) attributes[ATTR_ERROR_TYPE] = errorType;
  Object.assign(attributes, recondoAttributes(written));
  if (options.capturePrompts) Object.assign(attributes, messagesOf(written));
  const start = ex.timing.start;
  return {
    name,
    start: new Date(start),
    end: new Date(Math.max(start, ex.timing.end ?? record.capturedAt)),
    attributes,
    errorType,
  };
}

/** Recondo's own attributes: who, where, what it cost, what the policies decided. */
function recondoAttributes(written: WrittenRecord): Record<string, AttributeValue> {
  const ex = written.record.exchange;
  const out: Record<string, AttributeValue> = {
    "recondo.exchange.id": ex.id,
    "recondo.kind": ex.kind,
    "recondo.client.via": ex.client.via,
    "recondo.blocked": ex.outcome === "blocked",
  };
  if (ex.api) out["recondo.api"] = ex.api;
  if (ex.outcome) out["recondo.outcome"] = ex.outcome;
  if (ex.client.developer) out["recondo.developer"] = ex.client.developer;
  if (ex.client.team) out["recondo.team"] = ex.client.team;
  if (written.repo) out["recondo.repo"] = written.repo;
  if (written.sessionId) out["recondo.session.id"] = written.sessionId;
  if (written.turnId) out["recondo.turn.id"] = written.turnId;
  if (written.costUsd !== null) out["recondo.cost_usd"] = written.costUsd;
  if (ex.decisions.length) {
    // One string per hook call, `policy:hook:kind`; a verdict that did not take effect (observe mode, a
    // fail-open error) ends in `:not-enforced`.
    out["recondo.decisions"] = ex.decisions.map((d) =>
      `${d.policy}:${d.hook}:${d.kind}${d.kind !== "allow" && !d.enforced ? ":not-enforced" : ""}`
    );
    const blocker = ex.decisions.find((d) => d.kind === "block" && d.enforced);
    if (blocker) out["recondo.blocked_by"] = blocker.policy;
  }
  return out;
}

/** `gen_ai.input.messages` / `gen_ai.output.messages` as the spec's JSON message shapes. */
function messagesOf(written: WrittenRecord): Record<string, AttributeValue> {
  const { request, response } = written.record.parsed ?? { request: null, response: null };
  const out: Record<string, AttributeValue> = {};
  if (request?.system) {
    out[ATTR_GEN_AI_SYSTEM_INSTRUCTIONS] = JSON.stringify([{ type: "text", content: request.system }]);
  }
  if (request?.userText) {
    out[ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify([
      { role: "user", parts: [{ type: "text", content: request.userText }] },
    ]);
  }
  if (response && (response.text || response.toolCalls.length)) {
    const parts: Record<string, unknown>[] = [];
    if (response.text) parts.push({ type: "text", content: response.text });
    for (const c of response.toolCalls) {
      parts.push({ type: "tool_call", id: c.id, name: c.name, arguments: c.arguments });
    }
    out[ATTR_GEN_AI_OUTPUT_MESSAGES] = JSON.stringify([
      { role: "assistant", parts, finish_reason: response.stopReason ?? "" },
    ]);
  }
  return out;
}

/** The metric side of a written record; `null` for exchanges that are no model call. */
export function metricOf(written: WrittenRecord): MetricSpec | null {
  const ex = written.record.exchange;
  if (!operationOfRecord(written)) return null;
  const usage = written.record.parsed?.response?.usage ?? null;
  const end = ex.timing.end ?? written.record.capturedAt;
  return {
    attributes: commonAttributes(written),
    durationSeconds: Math.max(0, end - ex.timing.start) / 1000,
    tokens: usage
      ? {
        input: usage.input + usage.cacheRead + usage.cacheWrite5m + usage.cacheWrite1h,
        output: usage.output,
      }
      : null,
    errorType: errorTypeOf(written),
  };
}
