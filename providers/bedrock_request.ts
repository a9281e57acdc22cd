/**
 * Bedrock request bodies. `InvokeModel` carries the model's own format (Anthropic Messages for Claude, with
 * `anthropic_version: "bedrock-2023-05-31"` and without `model` or `stream`: the model is in the path, and
 * the operation says whether it streams). `Converse` has AWS's format: `messages[].content[]` blocks
 * (`text`, `toolUse`, `toolResult`, `image`, …), `system: [{ text }]`, `toolConfig.tools[].toolSpec`,
 * `inferenceConfig.maxTokens`.
 * @module
 */
import { arr, type Json, obj, str } from "./_json.ts";
import { emptyRequest, headerGetter, joinTexts, stripPreamble, tokenLimit } from "./_request_common.ts";
import { parseAnthropicRequest } from "./anthropic_request.ts";
import type { ParsedRequest } from "./types.ts";

/** An InvokeModel body: Anthropic Messages; `stream` is whether the operation streams. */
export function parseBedrockInvokeRequest(
  body: Json,
  headers: Record<string, string>,
  stream: boolean,
): ParsedRequest {
  return { ...parseAnthropicRequest(body, headers), stream };
}

/** A Converse body; `stream` is whether the operation is ConverseStream. */
export function parseConverseRequest(
  body: Json,
  headers: Record<string, string>,
  stream: boolean,
): ParsedRequest {
  const request = emptyRequest();
  const messages = arr(body.messages);
  request.stream = stream;
  request.model = str(body.modelId);
  request.system = joinTexts(arr(body.system).map((block) => str(obj(block)?.text)), "\n\n");
  request.toolsOffered = arr(obj(body.toolConfig)?.tools)
    .map((tool) => str(obj(obj(tool)?.toolSpec)?.name))
    .filter((name): name is string => name !== null);
  request.maxOutputTokens = tokenLimit(obj(body.inferenceConfig)?.maxTokens);
  request.messageCount = messages.length;
  request.sessionHints.sessionId = headerGetter(headers)("x-claude-code-session-id");
  const turn = [...messages].reverse().map(obj).find((message) => message?.role === "user") ?? null;
  if (!turn || obj(messages.at(-1))?.role !== "user") return request;
  const texts: string[] = [];
  for (const value of arr(turn.content)) {
    const block = obj(value) ?? {};
    const result = obj(block.toolResult);
    if (str(block.text) !== null) texts.push(stripPreamble(str(block.text) ?? ""));
    else if (result) {
      request.toolResults.push({
        callId: str(result.toolUseId) ?? "",
        content: toolResultText(result.content),
        isError: result.status === "error",
      });
    }
  }
  request.userText = joinTexts(texts);
  return request;
}

/** A tool result's content blocks as text: `text` as is, `json` serialised. */
function toolResultText(content: unknown): string {
  return arr(content).map((value) => {
    const block = obj(value) ?? {};
    if (str(block.text) !== null) return str(block.text);
    return block.json !== undefined ? JSON.stringify(block.json) : "";
  }).filter((text) => text).join("\n");
}
