/**
 * OpenAI Responses: the semantic stream events (over SSE, or as WebSocket messages for Codex), the
 * non-streaming `response` object, and error bodies. Usage arrives once, whole, in the terminal
 * `response.completed` / `response.incomplete` / `response.failed` event.
 * Output items are keyed by `output_index`, which both `output_item.added` and every delta carry.
 * One parser fed a whole Codex WebSocket connection sees several responses in a row: each new
 * `response.created` after a finished one starts a new turn, and the turns' usages are summed
 * (`createResponsesWsSession` splits them into separate results instead).
 * @module
 */
import { arr, type Json, num, obj, str } from "./_json.ts";
import type { ResponseBuilder } from "./response_builder.ts";
import type { Usage } from "./types.ts";
import { addUsage, openaiResponsesUsage } from "./usage.ts";
import type { WireAdapter } from "./wire_adapter.ts";

/** Output item types that are tool calls the client runs, and the field holding their arguments. */
const CLIENT_CALLS: Record<string, string> = {
  function_call: "arguments",
  custom_tool_call: "input",
  computer_call: "action",
  local_shell_call: "action",
  shell_call: "action",
  apply_patch_call: "operation",
};
/** Output item types run by OpenAI itself (billed server tools). */
const SERVER_CALLS: Record<string, string> = {
  web_search_call: "action",
  file_search_call: "queries",
  code_interpreter_call: "code",
  image_generation_call: "",
  mcp_call: "arguments",
};
const ARGUMENT_DELTAS = new Set([
  "response.function_call_arguments.delta",
  "response.custom_tool_call_input.delta",
  "response.mcp_call_arguments.delta",
  "response.code_interpreter_call_code.delta",
]);
const THINKING_DELTAS = new Set(["response.reasoning_summary_text.delta", "response.reasoning_text.delta"]);
/** Progress and `.done` echoes that repeat what deltas already carried. */
const QUIET_SUFFIXES = [
  ".done",
  ".added",
  ".in_progress",
  ".searching",
  ".completed",
  ".interpreting",
  ".generating",
  ".partial_image",
];

/** A fresh adapter for one Responses API response. */
export function openaiResponsesAdapter(): WireAdapter {
  let turn = 0;
  let earlierTurns: Usage | null = null;
  const key = (index: number) => turn === 0 ? String(index) : `${turn}:${index}`;

  function itemStart(b: ResponseBuilder, index: number, item: Json): void {
    const type = str(item.type) ?? "";
    const server = type in SERVER_CALLS;
    if (!(type in CLIENT_CALLS) && !server) return;
    const name = str(item.name) ?? (server ? type.replace(/_call$/, "") : type);
    b.toolStart(key(index), index, str(item.call_id) ?? str(item.id) ?? "", name, server);
  }

  function itemDone(b: ResponseBuilder, index: number, item: Json): void {
    const type = str(item.type) ?? "";
    const field = CLIENT_CALLS[type] ?? SERVER_CALLS[type];
    if (field === undefined) return;
    itemStart(b, index, item);
    const value = field ? item[field] : undefined;
    b.toolEnd(
      key(index),
      typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value),
    );
  }

  /** A whole output item from a non-streaming response. */
  function wholeItem(b: ResponseBuilder, index: number, item: Json): void {
    const type = str(item.type);
    if (type === "message") {
      for (const part of arr(item.content).map(obj)) {
        if (str(part?.type) === "output_text") b.text(index, str(part?.text) ?? "");
        else if (str(part?.type) === "refusal") b.refusal(index, str(part?.refusal) ?? "");
      }
    } else if (type === "reasoning") {
      for (const part of arr(item.summary).map(obj)) b.thinking(index, str(part?.text) ?? "");
      for (const part of arr(item.content).map(obj)) b.thinking(index, str(part?.text) ?? "");
    } else itemDone(b, index, item);
  }

  function terminal(b: ResponseBuilder, response: Json, type: string): void {
    b.start(str(response.id), str(response.model));
    const reported = obj(response.usage);
    if (reported) {
      const usage = openaiResponsesUsage(reported);
      earlierTurns = earlierTurns ? addUsage(earlierTurns, usage) : usage;
      b.usage(earlierTurns, true);
      const cost = num(reported.cost);
      if (cost !== null) b.providerCost(cost);
    }
    const error = obj(response.error);
    if (error) b.providerError(str(error.code) ?? str(error.type) ?? "failed", str(error.message) ?? "");
    const incomplete = str(obj(response.incomplete_details)?.reason);
    b.stop(incomplete ?? str(response.status) ?? type.replace("response.", ""));
    b.terminal();
  }

  function wholeResponse(b: ResponseBuilder, response: Json): void {
    b.start(str(response.id), str(response.model));
    arr(response.output).forEach((item, index) => {
      const value = obj(item);
      if (value) wholeItem(b, index, value);
    });
    terminal(b, response, "response.completed");
  }

  return {
    event(b, name, data) {
      const type = str(data.type) ?? name ?? "";
      const index = num(data.output_index) ?? 0;
      if (type === "response.output_text.delta") return b.text(index, str(data.delta) ?? "");
      if (ARGUMENT_DELTAS.has(type)) return b.toolDelta(key(index), str(data.delta) ?? "");
      if (THINKING_DELTAS.has(type)) return b.thinking(index, str(data.delta) ?? "");
      switch (type) {
        case "response.created":
        case "response.in_progress":
        case "response.queued": {
          if (type === "response.created" && b.isTerminal) {
            turn++;
            b.nextResponse();
          }
          const response = obj(data.response) ?? {};
          return b.start(str(response.id), str(response.model));
        }
        case "response.output_item.added":
          return itemStart(b, index, obj(data.item) ?? {});
        case "response.output_item.done":
          return itemDone(b, index, obj(data.item) ?? {});
        case "response.refusal.delta":
          return b.refusal(index, str(data.delta) ?? "");
        case "response.completed":
        case "response.incomplete":
        case "response.failed":
          return terminal(b, obj(data.response) ?? {}, type);
        case "error": {
          // SSE sends { type, code, message }; WebSocket sends { type, status, error: { type, code, message } }.
          const error = obj(data.error) ?? data;
          b.providerError(str(error.code) ?? str(error.type) ?? "error", str(error.message) ?? "");
          return b.terminal();
        }
      }
      if (type === "" && obj(data.error)) {
        const error = obj(data.error) ?? {};
        b.providerError(str(error.code) ?? str(error.type) ?? "error", str(error.message) ?? "");
        return b.terminal();
      }
      if (type === "" && (str(data.object) === "response" || Array.isArray(data.output))) {
        return wholeResponse(b, data);
      }
      if (type.startsWith("response.") && QUIET_SUFFIXES.some((s) => type.endsWith(s))) return;
      if (type.startsWith("response.") && type.endsWith(".delta")) return; // audio, transcripts: not text
      b.warn(`unknown OpenAI Responses event type "${type}"`);
    },
  };
}
