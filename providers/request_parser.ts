/**
 * `parseRequest`: what a request body says (model, system prompt, this turn's user text, tools offered,
 * tool results returned, output limit, session hints), in one shape across providers. Never throws: a body
 * that is not JSON gives an empty result with `error` set.
 * @module
 */
import { type Json, obj } from "./_json.ts";
import { emptyRequest } from "./_request_common.ts";
import { parseAnthropicRequest } from "./anthropic_request.ts";
import { parseBedrockInvokeRequest, parseConverseRequest } from "./bedrock_request.ts";
import { parseGoogleRequest } from "./google_request.ts";
import { parseChatRequest, parseResponsesRequest } from "./openai_request.ts";
import type { ApiName, ParsedRequest } from "./types.ts";

/**
 * Parses a request body of `api`, given as raw bytes or as an already-decoded JSON value.
 * @example
 * const parsed = parseRequest("anthropic.messages", bodyBytes, { "x-claude-code-session-id": "…" });
 * parsed.userText // "fix the failing test", without Claude Code's <system-reminder> blocks
 */
export function parseRequest(
  api: ApiName,
  body: Uint8Array | unknown,
  headers: Record<string, string>,
): ParsedRequest {
  let value: unknown = body;
  if (body instanceof Uint8Array) {
    if (body.length === 0) return emptyRequest("request body is empty");
    try {
      value = JSON.parse(new TextDecoder().decode(body));
    } catch (error) {
      return emptyRequest(
        `request body is not JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const json = obj(value);
  if (!json) {
    return emptyRequest(
      `request body is not a JSON object (got ${Array.isArray(value) ? "array" : typeof value})`,
    );
  }
  try {
    return parseJson(api, json, headers);
  } catch (error) {
    return emptyRequest(
      `cannot parse ${api} request: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Parses one client WebSocket message of the Responses API; returns null for messages that are not a
 * `response.create` (or not JSON), which carry no turn.
 */
export function parseWsClientMessage(message: string, headers: Record<string, string>): ParsedRequest | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  const json = obj(value);
  if (!json || json.type !== "response.create") return null;
  return parseRequest("openai.responses_ws", json, headers);
}

function parseJson(api: ApiName, json: Json, headers: Record<string, string>): ParsedRequest {
  switch (api) {
    case "anthropic.messages":
    case "anthropic.count_tokens":
      return parseAnthropicRequest(json, headers);
    case "openai.responses":
    case "openai.responses_ws":
      return parseResponsesRequest(json, headers);
    case "openai.chat_completions":
      return parseChatRequest(json, headers);
    case "google.generate":
      return parseGoogleRequest(json, false, false);
    case "google.stream_generate":
      return parseGoogleRequest(json, true, false);
    case "google.code_assist_generate":
      return parseGoogleRequest(json, false, true);
    case "google.code_assist_stream_generate":
      return parseGoogleRequest(json, true, true);
    case "bedrock.invoke":
    case "bedrock.invoke_stream":
      return parseBedrockInvokeRequest(json, headers, api === "bedrock.invoke_stream");
    case "bedrock.converse":
    case "bedrock.converse_stream":
      return parseConverseRequest(json, headers, api === "bedrock.converse_stream");
    default:
      return emptyRequest();
  }
}
