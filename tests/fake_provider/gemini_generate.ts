/**
 * Gemini API answers: `models/{model}:streamGenerateContent?alt=sse` (`data:` lines, CRLF-separated, no
 * `event:`; the last chunk carries `finishReason` and the full `usageMetadata`), the same without `alt=sse`
 * as one JSON array, `:generateContent` as one JSON object, and Google's error envelope.
 * @module
 */
import { answerChunks, answerText, type FakeBehavior } from "./behavior.ts";
import type { SseEvent } from "./sse.ts";

const ERROR_STATUSES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** Full usage in Gemini's shape: prompt includes cached tokens; thoughts are counted apart. */
export function geminiUsage(behavior: FakeBehavior): Record<string, number> {
  const u = behavior.usage;
  const prompt = u.input + u.cacheRead;
  const candidates = u.output - u.reasoning;
  const usage: Record<string, number> = {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: prompt + u.output,
  };
  if (u.cacheRead > 0) usage.cachedContentTokenCount = u.cacheRead;
  if (u.reasoning > 0) usage.thoughtsTokenCount = u.reasoning;
  return usage;
}

function candidateChunk(
  model: string,
  responseId: string,
  text: string,
  final: { usage: Record<string, number> } | { promptTokenCount: number },
): Record<string, unknown> {
  const isFinal = "usage" in final;
  const candidate: Record<string, unknown> = { content: { parts: [{ text }], role: "model" }, index: 0 };
  if (isFinal) candidate.finishReason = "STOP";
  return {
    candidates: [candidate],
    usageMetadata: isFinal
      ? final.usage
      : { promptTokenCount: final.promptTokenCount, totalTokenCount: final.promptTokenCount },
    modelVersion: model,
    responseId,
  };
}

/** The fields of a generateContent body this fake looks at. */
export interface GeminiRequest {
  contents?: { parts?: { functionResponse?: unknown }[] }[];
  tools?: { functionDeclarations?: { name?: string }[] }[];
  generationConfig?: { responseJsonSchema?: unknown; responseSchema?: unknown };
}

/** Whether `request` offers the scripted function and brings no function's response back yet. */
export function wantsScriptedGeminiCall(
  request: GeminiRequest | undefined,
  script: { name: string },
): boolean {
  const offered = (request?.tools ?? []).some((tool) =>
    (tool?.functionDeclarations ?? []).some((f) => f?.name === script.name)
  );
  const answered = (request?.contents ?? []).some((c) => (c?.parts ?? []).some((p) => p?.functionResponse));
  return offered && !answered;
}

/** A streamed answer that is one `functionCall` part. */
export function geminiFunctionCallEvents(
  model: string,
  behavior: FakeBehavior,
  responseId: string,
  script: { name: string; arguments: Record<string, unknown> },
): SseEvent[] {
  return [{
    data: {
      candidates: [{
        content: { role: "model", parts: [{ functionCall: { name: script.name, args: script.arguments } }] },
        finishReason: "STOP",
        index: 0,
      }],
      usageMetadata: geminiUsage(behavior),
      modelVersion: model,
      responseId,
    },
  }];
}

/** The chunks of one streamed answer (as SSE events without an `event:` line). */
export function geminiStreamEvents(model: string, behavior: FakeBehavior, responseId: string): SseEvent[] {
  const chunks = answerChunks(behavior);
  const prompt = behavior.usage.input + behavior.usage.cacheRead;
  return chunks.map((text, i) => ({
    data: candidateChunk(
      model,
      responseId,
      text,
      i === chunks.length - 1 ? { usage: geminiUsage(behavior) } : { promptTokenCount: prompt },
    ),
  }));
}

/**
 * The JSON body of `:generateContent`. A request for JSON output with a schema (`generationConfig`'s
 * `responseJsonSchema` or `responseSchema`, as Gemini CLI's model router sends) gets a value of that schema
 * as its text instead of the answer.
 */
export function geminiJson(
  model: string,
  behavior: FakeBehavior,
  responseId: string,
  request?: GeminiRequest,
): Record<string, unknown> {
  const schema = request?.generationConfig?.responseJsonSchema ?? request?.generationConfig?.responseSchema;
  const text = schema === undefined ? answerText(behavior) : JSON.stringify(valueOfSchema(schema));
  return candidateChunk(model, responseId, text, { usage: geminiUsage(behavior) });
}

/** A small value that satisfies a (Gemini or JSON Schema) schema: "fake", 10, true, one item, every property. */
export function valueOfSchema(schema: unknown): unknown {
  const s = (schema ?? {}) as {
    type?: string;
    enum?: unknown[];
    properties?: Record<string, unknown>;
    items?: unknown;
  };
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (String(s.type ?? "").toLowerCase()) {
    case "object":
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, valueOfSchema(v)]));
    case "array":
      return [valueOfSchema(s.items)];
    case "integer":
    case "number":
      return 10;
    case "boolean":
      return true;
    default:
      return "fake";
  }
}

/** Google's error envelope: `{"error":{code,message,status}}`. */
export function geminiError(status: number, message: string): Record<string, unknown> {
  return { error: { code: status, message, status: ERROR_STATUSES[status] ?? "UNKNOWN" } };
}

/** Splits `/v1beta/models/gemini-2.5-flash:streamGenerateContent` into model and method, or undefined. */
export function parseGeminiPath(path: string): { model: string; method: string } | undefined {
  const match = /^\/(?:v1|v1beta|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/.exec(path);
  return match ? { model: decodeURIComponent(match[1]), method: match[2] } : undefined;
}
