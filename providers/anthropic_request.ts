/**
 * Anthropic Messages request bodies. Claude Code's turn is the last `user` message, after skipping the
 * `role: "system"` message it appends at the end; its text blocks that are `<system-reminder>` preambles are
 * not what the developer typed. Its `metadata.user_id` is a JSON *string* holding `session_id` (older
 * versions: `user_<hash>_account_<uuid>_session_<uuid>`).
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

const SESSION_IN_USER_ID = /_session_([0-9a-f-]{8,})/i;

/** Parses an Anthropic Messages request body. */
export function parseAnthropicRequest(body: Json, headers: Record<string, string>): ParsedRequest {
  const request = emptyRequest();
  const messages = arr(body.messages);
  request.model = str(body.model);
  request.stream = body.stream === true;
  request.system = systemText(body.system);
  request.toolsOffered = arr(body.tools).map((t) => str(obj(t)?.name)).filter((n): n is string => n !== null);
  request.maxOutputTokens = tokenLimit(body.max_tokens);
  request.messageCount = messages.length;
  request.sessionHints.sessionId = sessionId(obj(body.metadata)?.user_id) ??
    headerGetter(headers)("x-claude-code-session-id");

  const turn = lastUserMessage(messages);
  if (!turn) return request;
  if (typeof turn.content === "string") {
    request.userText = joinTexts([stripPreamble(turn.content)]);
    return request;
  }
  const texts: string[] = [];
  for (const value of arr(turn.content)) {
    const block = obj(value);
    const type = str(block?.type);
    if (!block) continue;
    if (type === "text") texts.push(stripPreamble(str(block.text) ?? ""));
    else if (type === "tool_result") {
      request.toolResults.push({
        callId: str(block.tool_use_id) ?? "",
        content: stripPreamble(contentText(block.content)),
        isError: block.is_error === true,
      });
    }
  }
  request.userText = joinTexts(texts);
  return request;
}

/** The message holding this turn's user content: the last `user` one, trailing `system` notes skipped. */
function lastUserMessage(messages: unknown[]): Json | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = obj(messages[i]);
    const role = str(message?.role);
    if (role === "user") return message;
    if (role !== "system" && role !== "assistant") return null;
  }
  return null;
}

/** System prompt text; Claude Code's first block is a billing header, not an instruction. */
function systemText(system: unknown): string | null {
  if (typeof system === "string") return system || null;
  const texts = arr(system)
    .map((block) => str(obj(block)?.text))
    .filter((text): text is string => text !== null && !text.startsWith("x-anthropic-billing-header:"));
  return joinTexts(texts, "\n\n");
}

function sessionId(userId: unknown): string | null {
  const text = str(userId);
  if (!text) return null;
  if (text.startsWith("{")) {
    try {
      return str(obj(JSON.parse(text))?.session_id);
    } catch {
      return null;
    }
  }
  return SESSION_IN_USER_ID.exec(text)?.[1] ?? null;
}
