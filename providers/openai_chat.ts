/**
 * OpenAI Chat Completions: `chat.completion.chunk` SSE data ending in `[DONE]`, with usage in a last chunk
 * whose `choices` is empty (only when the request set `stream_options.include_usage`), and the
 * non-streaming `chat.completion` object. Tool calls stream as `delta.tool_calls[]` keyed by their `index`;
 * the first fragment of each carries its id and name. Only the first choice's content is kept (agents ask
 * for one); usage covers all choices. OpenRouter adds `usage.cost`, the USD it charged (`providerCostUsd`).
 * @module
 */
import { arr, type Json, num, obj, str } from "./_json.ts";
import type { ResponseBuilder } from "./response_builder.ts";
import { openaiChatUsage } from "./usage.ts";
import type { WireAdapter } from "./wire_adapter.ts";

/** A fresh adapter for one Chat Completions response. */
export function openaiChatAdapter(): WireAdapter {
  const openTools: string[] = [];

  function closeTools(b: ResponseBuilder): void {
    for (const key of openTools) b.toolEnd(key);
    openTools.length = 0;
  }

  function toolFragment(b: ResponseBuilder, call: Json, whole: boolean): void {
    const index = num(call.index) ?? openTools.length;
    const key = `tool${index}`;
    const fn = obj(call.function) ?? {};
    if (!b.hasTool(key)) {
      b.toolStart(key, index, str(call.id) ?? "", str(fn.name) ?? "", false);
      openTools.push(key);
    } else if (str(call.id) || str(fn.name)) {
      b.toolStart(key, index, str(call.id) ?? "", str(fn.name) ?? "", false);
    }
    const args = str(fn.arguments) ?? "";
    if (whole) b.toolEnd(key, args);
    else b.toolDelta(key, args);
  }

  function message(b: ResponseBuilder, content: Json, whole: boolean): void {
    const text = str(content.content);
    if (text) b.text(0, text);
    const refusal = str(content.refusal);
    if (refusal) b.refusal(0, refusal);
    // Not OpenAI itself, but OpenAI-compatible servers (DeepSeek, vLLM, OpenRouter) stream reasoning here.
    const reasoning = str(content.reasoning_content) ?? str(content.reasoning);
    if (reasoning) b.thinking(0, reasoning);
    arr(content.tool_calls).forEach((call, position) => {
      const value = obj(call);
      if (value) {
        toolFragment(b, whole && num(value.index) === null ? { ...value, index: position } : value, whole);
      }
    });
  }

  return {
    event(b, _name, data) {
      const error = obj(data.error);
      if (error) {
        b.providerError(str(error.code) ?? str(error.type) ?? "error", str(error.message) ?? "");
        return b.terminal();
      }
      // Azure's first chunk (its prompt filter results) has an empty id and model: not the response's.
      b.start(str(data.id) || null, str(data.model) || null);
      const whole = str(data.object) === "chat.completion";
      for (const value of arr(data.choices)) {
        const choice = obj(value);
        if (!choice || (num(choice.index) ?? 0) !== 0) continue;
        const content = obj(whole ? choice.message : choice.delta);
        if (content) message(b, content, whole);
        const finish = str(choice.finish_reason);
        if (finish) {
          closeTools(b);
          b.stop(finish);
        }
      }
      const usage = obj(data.usage);
      if (usage) {
        b.usage(openaiChatUsage(usage), true);
        // OpenRouter states what it charged beside the tokens (credits, 1 credit = 1 USD).
        const cost = num(usage.cost);
        if (cost !== null) b.providerCost(cost);
      }
      if (whole) b.terminal();
    },
    done(b) {
      closeTools(b);
      b.terminal();
    },
  };
}
