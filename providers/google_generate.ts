/**
 * Gemini `generateContent` / `streamGenerateContent` responses, and Code Assist's (Gemini CLI with a Google
 * login), which wrap the same object as `{ response: {...}, traceId }`. Streams are SSE `data:` lines without
 * `event:` (or, without `alt=sse`, a JSON array); each chunk is a `GenerateContentResponse`. Function calls
 * arrive whole in one part. Thought parts (`thought: true`) are reasoning summaries. `usageMetadata` is
 * cumulative and is final once a candidate has a `finishReason`.
 * @module
 */
import { argumentsText, arr, type Json, obj, str } from "./_json.ts";
import type { ResponseBuilder } from "./response_builder.ts";
import { geminiUsage, mergeUsageReport, type RawUsage } from "./usage.ts";
import type { WireAdapter } from "./wire_adapter.ts";

/** A fresh adapter for one Gemini or Code Assist response. */
export function googleGenerateAdapter(): WireAdapter {
  let usage: RawUsage | null = null;
  let finished = false;
  let calls = 0;

  function part(b: ResponseBuilder, value: Json): void {
    const text = str(value.text);
    if (text !== null) {
      if (value.thought === true) b.thinking(0, text);
      else b.text(0, text);
    }
    const call = obj(value.functionCall);
    if (call) {
      const index = calls++;
      const name = str(call.name) ?? "";
      b.toolStart(`call${index}`, index, str(call.id) ?? `${name}#${index}`, name, false);
      b.toolEnd(`call${index}`, argumentsText(call.args ?? {}));
    }
    const code = obj(value.executableCode);
    if (code) {
      const index = calls++;
      b.toolStart(`call${index}`, index, `code_execution#${index}`, "code_execution", true);
      b.toolEnd(`call${index}`, argumentsText(code));
    }
  }

  function chunk(b: ResponseBuilder, response: Json, traceId: string | null): void {
    b.start(str(response.responseId) ?? traceId, str(response.modelVersion));
    for (const value of arr(response.candidates)) {
      const candidate = obj(value);
      if (!candidate || (typeof candidate.index === "number" && candidate.index !== 0)) continue;
      for (const p of arr(obj(candidate.content)?.parts)) {
        const partValue = obj(p);
        if (partValue) part(b, partValue);
      }
      const reason = str(candidate.finishReason);
      if (reason) {
        finished = true;
        b.stop(reason);
      }
    }
    const blocked = str(obj(response.promptFeedback)?.blockReason);
    if (blocked) {
      finished = true;
      b.stop(`prompt_blocked:${blocked}`);
    }
    const report = obj(response.usageMetadata);
    if (report) {
      usage = mergeUsageReport(usage, report);
      b.usage(geminiUsage(usage), finished);
    }
    if (finished) b.terminal();
  }

  return {
    event(b, _name, data) {
      const error = obj(data.error);
      if (error) {
        const status = str(error.status) ?? String(error.code ?? "error");
        b.providerError(status, str(error.message) ?? "");
        return b.terminal();
      }
      // Code Assist: { response: GenerateContentResponse, traceId }.
      const wrapped = obj(data.response);
      if (wrapped && !("candidates" in data)) return chunk(b, wrapped, str(data.traceId));
      chunk(b, data, null);
    },
  };
}
