/**
 * Bedrock `Converse` and `ConverseStream`: AWS's model-neutral format. The stream's events are event-stream
 * messages named by `:event-type` (`messageStart`, `contentBlockStart` with a `toolUse` start,
 * `contentBlockDelta` with `text`, `toolUse.input` or `reasoningContent`, `contentBlockStop`, `messageStop`
 * with `stopReason`, then `metadata` with `usage` and `metrics`); `metadata` is the final event. The whole
 * answer is `{ output: { message: { content } }, stopReason, usage }`. Usage counts
 * `inputTokens`/`outputTokens`/`cacheReadInputTokens`/`cacheWriteInputTokens`. The model is the id in the
 * path; neither form names it.
 * @module
 */
import { argumentsText, arr, type Json, num, obj, str } from "./_json.ts";
import type { ResponseBuilder } from "./response_builder.ts";
import { converseUsage } from "./usage.ts";
import type { WireAdapter } from "./wire_adapter.ts";

/** A fresh adapter for one Converse(Stream) response of `pathModel`. */
export function bedrockConverseAdapter(pathModel: string | null): WireAdapter {
  function delta(b: ResponseBuilder, index: number, value: Json): void {
    const text = str(value.text);
    if (text !== null) return b.text(index, text);
    const tool = obj(value.toolUse);
    if (tool) return b.toolDelta(String(index), str(tool.input) ?? "");
    const reasoning = obj(value.reasoningContent);
    if (reasoning) {
      if (reasoning.redactedContent !== undefined) return b.redactedThinking(index);
      return b.thinking(index, str(reasoning.text) ?? "");
    }
    b.warn(`unknown Converse delta with ${Object.keys(value).join(", ") || "no fields"}`);
  }

  function wholeMessage(b: ResponseBuilder, data: Json): void {
    b.start(null, pathModel);
    arr(obj(obj(data.output)?.message)?.content).forEach((value, index) => {
      const block = obj(value) ?? {};
      const tool = obj(block.toolUse);
      const reasoning = obj(obj(block.reasoningContent)?.reasoningText);
      if (str(block.text) !== null) b.text(index, str(block.text) ?? "");
      else if (tool) {
        b.toolStart(String(index), index, str(tool.toolUseId) ?? "", str(tool.name) ?? "", false);
        b.toolEnd(String(index), argumentsText(tool.input));
      } else if (reasoning) b.thinking(index, str(reasoning.text) ?? "");
      else if (obj(block.reasoningContent)?.redactedContent !== undefined) b.redactedThinking(index);
    });
    b.stop(str(data.stopReason));
    const usage = obj(data.usage);
    if (usage) b.usage(converseUsage(usage), true);
    b.terminal();
  }

  return {
    event(b, name, data) {
      const index = num(data.contentBlockIndex) ?? 0;
      switch (name) {
        case "messageStart":
          return b.start(null, pathModel);
        case "contentBlockStart": {
          const tool = obj(obj(data.start)?.toolUse);
          if (tool) b.toolStart(String(index), index, str(tool.toolUseId) ?? "", str(tool.name) ?? "", false);
          return;
        }
        case "contentBlockDelta":
          return delta(b, index, obj(data.delta) ?? {});
        case "contentBlockStop":
          if (b.hasTool(String(index))) b.toolEnd(String(index));
          return;
        case "messageStop":
          return b.stop(str(data.stopReason));
        case "metadata": {
          const usage = obj(data.usage);
          if (usage) b.usage(converseUsage(usage), true);
          return b.terminal();
        }
        case null:
          if (data.output !== undefined) return wholeMessage(b, data);
          if (str(data.message) !== null) {
            b.providerError("error", str(data.message) ?? "");
            return b.terminal();
          }
          return b.warn("Converse body without output");
        default:
          b.warn(`unknown Converse event type "${name}"`);
      }
    },
  };
}
