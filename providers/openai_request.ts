/**
 * OpenAI request bodies: Responses (`input` items, also the WebSocket `response.create` message Codex
 * sends) and Chat Completions (`messages`). The turn's new content is what follows the model's last output:
 * user messages (Codex preambles such as `<environment_context>` skipped) and tool outputs.
 * Codex names its session in `session-id`/`thread-id` headers and chains turns with `previous_response_id`.
 * @module
 */
import { arr, type Json, obj, str } from "./_json.ts";
import {
  contentText,
  emptyRequest,
  headerGetter,
  joinTexts,
  stripPreamble,
  tokenLimit,
} from "./_request_common.ts";
import type { ParsedRequest } from "./types.ts";

/** Input item types the model produced (everything after the last of them is this turn's new input). */
const MODEL_ITEMS = new Set([
  "function_call",
  "custom_tool_call",
  "reasoning",
  "computer_call",
  "local_shell_call",
  "shell_call",
  "apply_patch_call",
  "web_search_call",
  "file_search_call",
  "code_interpreter_call",
  "image_generation_call",
  "mcp_call",
]);
const TOOL_OUTPUTS = new Set([
  "function_call_output",
  "custom_tool_call_output",
  "computer_call_output",
  "local_shell_call_output",
  "shell_call_output",
  "apply_patch_call_output",
]);

/** Parses a Responses request body, or a WebSocket `response.create` message. */
export function parseResponsesRequest(body: Json, headers: Record<string, string>): ParsedRequest {
  // Older WebSocket clients nest the request: { type: "response.create", response: {...} }.
  const source = obj(body.response) && body.input === undefined ? obj(body.response) ?? body : body;
  const request = emptyRequest();
  const header = headerGetter(headers);
  request.model = str(source.model);
  request.stream = source.stream === true || str(body.type) === "response.create";
  request.toolsOffered = toolNames(source.tools);
  request.maxOutputTokens = tokenLimit(source.max_output_tokens);
  request.sessionHints = {
    sessionId: header("session-id") ?? header("thread-id") ?? str(obj(source.client_metadata)?.session_id),
    previousResponseId: str(source.previous_response_id),
  };
  if (source.generate === false) request.prewarm = true;

  if (typeof source.input === "string") {
    request.messageCount = 1;
    request.userText = joinTexts([stripPreamble(source.input)]);
    request.system = str(source.instructions);
    return request;
  }
  const items = arr(source.input).map((item) => obj(item) ?? {});
  request.messageCount = items.length;
  const systemTexts = [str(source.instructions)];
  let turnStart = 0;
  items.forEach((item, index) => {
    const role = str(item.role);
    if (role === "developer" || role === "system") systemTexts.push(contentText(item.content));
    if (MODEL_ITEMS.has(str(item.type) ?? "") || role === "assistant") turnStart = index + 1;
  });
  request.system = joinTexts(systemTexts, "\n\n");
  const texts: string[] = [];
  for (const item of items.slice(turnStart)) {
    const type = str(item.type);
    if (str(item.role) === "user") texts.push(stripPreamble(contentText(item.content)));
    else if (TOOL_OUTPUTS.has(type ?? "")) {
      request.toolResults.push({
        callId: str(item.call_id) ?? "",
        content: outputText(item.output),
        isError: false,
      });
    }
  }
  request.userText = joinTexts(texts);
  return request;
}

/** Parses a Chat Completions request body. */
export function parseChatRequest(body: Json, _headers: Record<string, string>): ParsedRequest {
  const request = emptyRequest();
  const messages = arr(body.messages).map((m) => obj(m) ?? {});
  request.model = str(body.model);
  request.stream = body.stream === true;
  request.toolsOffered = [
    ...toolNames(body.tools),
    ...arr(body.functions).map((f) => str(obj(f)?.name)).filter((n): n is string => n !== null),
  ];
  request.maxOutputTokens = tokenLimit(body.max_completion_tokens) ?? tokenLimit(body.max_tokens);
  request.messageCount = messages.length;
  const systemTexts: string[] = [];
  let turnStart = 0;
  messages.forEach((message, index) => {
    const role = str(message.role);
    if (role === "system" || role === "developer") systemTexts.push(contentText(message.content));
    if (role === "assistant") turnStart = index + 1;
  });
  request.system = joinTexts(systemTexts, "\n\n");
  const texts: string[] = [];
  for (const message of messages.slice(turnStart)) {
    const role = str(message.role);
    if (role === "user") texts.push(stripPreamble(contentText(message.content)));
    else if (role === "tool") {
      request.toolResults.push({
        callId: str(message.tool_call_id) ?? "",
        content: contentText(message.content),
        isError: false,
      });
    }
  }
  request.userText = joinTexts(texts);
  return request;
}

/** Tool names: `{ type: "function", name }` (Responses), `{ function: { name } }` (Chat), or the type. */
function toolNames(tools: unknown): string[] {
  return arr(tools)
    .map((t) => {
      const tool = obj(t);
      return str(tool?.name) ?? str(obj(tool?.function)?.name) ?? str(tool?.type);
    })
    .filter((n): n is string => n !== null);
}

function outputText(output: unknown): string {
  if (typeof output === "string") return output;
  const text = contentText(output);
  if (text) return text;
  try {
    return JSON.stringify(output ?? "");
  } catch {
    return "";
  }
}
