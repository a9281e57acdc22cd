/**
 * Anthropic Messages responses: the SSE stream (`message_start`, `content_block_start|delta|stop`,
 * `message_delta`, `message_stop`, `ping`, `error`) and the non-streaming `message` object.
 * `message_delta.usage` is cumulative and replaces what `message_start` reported; Anthropic documents that
 * new event and block types may appear, so unknown ones are ignored with a warning, not an error.
 * @module
 */
import { argumentsText, type Json, num, obj, str } from "./_json.ts";
import type { ResponseBuilder } from "./response_builder.ts";
import { anthropicUsage, mergeUsageReport, type RawUsage } from "./usage.ts";
import type { WireAdapter } from "./wire_adapter.ts";

const CLIENT_TOOL_BLOCKS = new Set(["tool_use"]);
const SERVER_TOOL_BLOCKS = new Set(["server_tool_use", "mcp_tool_use"]);
const IGNORED_DELTAS = new Set(["signature_delta", "citations_delta"]);

/** A fresh adapter for one Anthropic Messages response. */
export function anthropicMessagesAdapter(): WireAdapter {
  let usage: RawUsage | null = null;
  /** Tool input given whole in `content_block_start` (non-empty only when no deltas will follow). */
  const initialInput = new Map<number, string>();

  function reportUsage(b: ResponseBuilder, report: unknown, final: boolean): void {
    const raw = obj(report);
    if (!raw) return;
    usage = mergeUsageReport(usage, raw);
    b.usage(anthropicUsage(usage), final);
  }

  function blockStart(b: ResponseBuilder, index: number, block: Json): void {
    const type = str(block.type) ?? "";
    if (type === "text") b.text(index, str(block.text) ?? "");
    else if (type === "thinking") b.thinking(index, str(block.thinking) ?? "");
    else if (type === "redacted_thinking") b.redactedThinking(index);
    else if (CLIENT_TOOL_BLOCKS.has(type) || SERVER_TOOL_BLOCKS.has(type)) {
      b.toolStart(
        String(index),
        index,
        str(block.id) ?? "",
        str(block.name) ?? "",
        SERVER_TOOL_BLOCKS.has(type),
      );
      const input = obj(block.input);
      if (input && Object.keys(input).length > 0) initialInput.set(index, argumentsText(input));
    } else if (!type.endsWith("_tool_result") && type !== "container_upload") {
      b.warn(`unknown Anthropic content block type "${type}"`);
    }
  }

  function blockDelta(b: ResponseBuilder, index: number, delta: Json): void {
    const type = str(delta.type) ?? "";
    if (type === "text_delta") b.text(index, str(delta.text) ?? "");
    else if (type === "thinking_delta") b.thinking(index, str(delta.thinking) ?? "");
    else if (type === "input_json_delta") b.toolDelta(String(index), str(delta.partial_json) ?? "");
    else if (!IGNORED_DELTAS.has(type)) b.warn(`unknown Anthropic delta type "${type}"`);
  }

  function wholeMessage(b: ResponseBuilder, message: Json): void {
    b.start(str(message.id), str(message.model));
    const content = Array.isArray(message.content) ? message.content : [];
    content.forEach((value, index) => {
      const block = obj(value);
      if (!block) return;
      const type = str(block.type) ?? "";
      if (CLIENT_TOOL_BLOCKS.has(type) || SERVER_TOOL_BLOCKS.has(type)) {
        b.toolStart(
          String(index),
          index,
          str(block.id) ?? "",
          str(block.name) ?? "",
          SERVER_TOOL_BLOCKS.has(type),
        );
        b.toolEnd(String(index), argumentsText(block.input));
      } else blockStart(b, index, block);
    });
    b.stop(str(message.stop_reason));
    reportUsage(b, message.usage, true);
    b.terminal();
  }

  return {
    event(b, name, data) {
      const type = str(data.type) ?? name ?? "";
      const index = num(data.index) ?? 0;
      switch (type) {
        case "message_start": {
          const message = obj(data.message) ?? {};
          b.start(str(message.id), str(message.model));
          reportUsage(b, message.usage, false);
          return;
        }
        case "content_block_start":
          return blockStart(b, index, obj(data.content_block) ?? {});
        case "content_block_delta":
          return blockDelta(b, index, obj(data.delta) ?? {});
        case "content_block_stop":
          if (b.hasTool(String(index))) b.toolEnd(String(index), initialInput.get(index));
          return;
        case "message_delta":
          b.stop(str(obj(data.delta)?.stop_reason));
          reportUsage(b, data.usage, true);
          return;
        case "message_stop":
          return b.terminal();
        case "ping":
          return;
        case "error": {
          const error = obj(data.error) ?? {};
          b.providerError(str(error.type) ?? "error", str(error.message) ?? "");
          return b.terminal();
        }
        case "message":
          return wholeMessage(b, data);
        case "":
          // Vertex AI answers its own failures to a Claude request (quota, permission) in Google's
          // envelope, `{"error":{"code":429,"message":…,"status":"RESOURCE_EXHAUSTED"}}`, with no `type`.
          if (obj(data.error)) {
            const error = obj(data.error) ?? {};
            b.providerError(
              str(error.status) ?? `http_${num(error.code) ?? "error"}`,
              str(error.message) ?? "",
            );
            return b.terminal();
          }
          return b.warn("Anthropic event without a type");
        default:
          b.warn(`unknown Anthropic event type "${type}"`);
      }
    },
  };
}
