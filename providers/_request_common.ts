/**
 * Pieces shared by the request parsers: the empty `ParsedRequest`, client preamble stripping, and text
 * extraction from the content shapes the three providers use.
 * @module
 */
import { arr, obj, str } from "./_json.ts";
import type { ParsedRequest } from "./types.ts";

/** A `ParsedRequest` with nothing in it; parsers fill in what the body states. */
export function emptyRequest(error?: string): ParsedRequest {
  const request: ParsedRequest = {
    model: null,
    stream: false,
    system: null,
    userText: null,
    toolsOffered: [],
    toolResults: [],
    maxOutputTokens: null,
    sessionHints: { sessionId: null, previousResponseId: null },
    messageCount: 0,
  };
  if (error) request.error = error;
  return request;
}

/**
 * Context blocks the agents put into the user's message, which are not what the developer typed:
 * Claude Code's `<system-reminder>`, Codex's `<environment_context>`, `<user_instructions>`, AGENTS.md
 * instructions, Gemini CLI's `<session_context>`.
 */
const PREAMBLE_TAGS = [
  "system-reminder",
  "environment_context",
  "user_instructions",
  "skills_instructions",
  "permissions instructions",
  "collaboration_mode",
  "session_context",
  "INSTRUCTIONS",
];
const REMINDER = /<system-reminder>[\s\S]*?<\/system-reminder>/g;

/** The text without client preambles: reminders anywhere are cut out, a text that is one preamble is dropped. */
export function stripPreamble(text: string): string {
  const withoutReminders = text.includes("<system-reminder>") ? text.replace(REMINDER, "") : text;
  const trimmed = withoutReminders.trim();
  if (trimmed.startsWith("# AGENTS.md instructions")) return "";
  if (trimmed.startsWith("<")) {
    for (const tag of PREAMBLE_TAGS) {
      const name = tag.split(" ")[0];
      if (trimmed.startsWith(`<${tag}`) && trimmed.endsWith(`</${name}>`)) return "";
    }
  }
  return trimmed;
}

/** Joins the non-empty texts, or null when there are none. */
export function joinTexts(texts: (string | null)[], separator = "\n"): string | null {
  const kept = texts.filter((t): t is string => typeof t === "string" && t.length > 0);
  return kept.length > 0 ? kept.join(separator) : null;
}

/** Text of content given as a string or an array of `{ type, text }` parts (any provider's spelling). */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  return arr(content)
    .map((part) => typeof part === "string" ? part : str(obj(part)?.text) ?? "")
    .filter((t) => t.length > 0)
    .join("\n");
}

/** Header lookup by lower-case name over headers of any case. */
export function headerGetter(headers: Record<string, string>): (name: string) => string | null {
  const lower = new Map<string, string>();
  for (const [key, value] of Object.entries(headers)) lower.set(key.toLowerCase(), value);
  return (name) => lower.get(name) ?? null;
}

/** The value as a non-negative integer token limit, or null. */
export function tokenLimit(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
}
