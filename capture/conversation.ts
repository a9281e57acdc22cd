/**
 * What a request body says about the conversation it belongs to, beyond the provider parsers' view:
 * the client's own session id when it states one, a fingerprint of the conversation's opening (for
 * prefix continuity when it does not), and the repository and branch an agent mentions in its context.
 * Everything here is best effort over untrusted bytes and never throws.
 * @module
 */
import { createHash } from "node:crypto";
import type { CaptureRecord } from "./record.ts";

/** Session-relevant facts of one exchange. */
export interface ConversationFacts {
  /** The client's session id, prefixed by where it came from (`claude-code:…`, `codex:…`), or `null`. */
  clientKey: string | null;
  /** Responses API `previous_response_id`, which names the turn this one continues. */
  previousResponseId: string | null;
  /** SHA-256 of the conversation's first real user item, equal for every request of one conversation. */
  fingerprint: string | null;
  repo: string | null;
  branch: string | null;
}

const SCAN_LIMIT = 512 * 1024;
const decoder = new TextDecoder();

/** The request body decoded as JSON, or `null` when it is none (a WebSocket record, or not JSON). */
export function requestJson(record: CaptureRecord): unknown {
  if (record.exchange.kind !== "http") return null;
  const bytes = record.requestBody;
  let i = 0;
  while (
    i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  ) i++;
  if (bytes[i] !== 0x7b) return null;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
}

/**
 * Extracts `ConversationFacts` from a record. `body` is the request body's JSON when the caller has
 * decoded it already (`requestJson`): a long session's body is most of a megabyte, parsed once.
 */
export function conversationFacts(
  record: CaptureRecord,
  body: unknown = requestJson(record),
): ConversationFacts {
  const headers = record.exchange.request.headers;
  const hints = record.parsed?.request?.sessionHints;
  return {
    clientKey: clientKeyOf(headers, hints?.sessionId ?? null, body),
    previousResponseId: hints?.previousResponseId ?? stringField(body, "previous_response_id"),
    fingerprint: fingerprintOf(body),
    ...repoOf(contextText(record, body)),
  };
}

/** Members and leading items where agents state their working directory and branch. */
const CONTEXT_MEMBERS = ["system", "instructions", "systemInstruction"];
const CONTEXT_ITEMS = 4;

/**
 * The text the repository and branch are looked for in: the system prompt and the first few items of the
 * conversation when the body is JSON (the system prompt can sit after the messages, so a prefix of a long
 * session's body would miss it), else the start of the raw body.
 */
function contextText(record: CaptureRecord, body: unknown): string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return decoder.decode(record.requestBody.subarray(0, SCAN_LIMIT));
  }
  const b =
    (typeof (body as Record<string, unknown>).request === "object"
      ? (body as Record<string, unknown>).request
      : body) as Record<string, unknown>;
  const pieces: unknown[] = CONTEXT_MEMBERS.map((k) => b[k]);
  for (const k of ["messages", "input", "contents"]) {
    const list = b[k];
    if (Array.isArray(list)) pieces.push(...list.slice(0, CONTEXT_ITEMS));
    else if (typeof list === "string") pieces.push(list);
  }
  return pieces.filter((p) => p !== undefined && p !== null).map((p) => JSON.stringify(p)).join("\n")
    .slice(0, SCAN_LIMIT);
}

function header(headers: Record<string, string>, name: string): string | null {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return null;
}

function stringField(body: unknown, name: string): string | null {
  if (typeof body !== "object" || body === null) return null;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" && value ? value : null;
}

function clientKeyOf(headers: Record<string, string>, hinted: string | null, body: unknown): string | null {
  const claude = header(headers, "x-claude-code-session-id");
  if (claude) return `claude-code:${claude}`;
  const codex = header(headers, "session-id");
  if (codex) return `codex:${codex}`;
  if (hinted) return `client:${hinted}`;
  // Claude Code also puts it in metadata.user_id, a JSON string.
  const meta = typeof body === "object" && body !== null ? (body as Record<string, unknown>).metadata : null;
  const userId = typeof meta === "object" && meta !== null ? (meta as Record<string, unknown>).user_id : null;
  if (typeof userId === "string" && userId.startsWith("{")) {
    try {
      const id = (JSON.parse(userId) as Record<string, unknown>).session_id;
      if (typeof id === "string" && id) return `claude-code:${id}`;
    } catch {
      return null;
    }
  }
  return null;
}

/** Client preambles that open many conversations alike and so cannot tell them apart. */
const PREAMBLE = /^\s*<(environment_context|user_instructions|permissions instructions)>|^\s*# AGENTS\.md/;

function itemText(item: unknown): string {
  return JSON.stringify(item) ?? "";
}

function firstUserItem(items: unknown[]): unknown {
  for (const item of items) {
    if (typeof item === "string") return item;
    if (typeof item !== "object" || item === null) continue;
    const role = (item as Record<string, unknown>).role;
    if (role !== undefined && role !== "user") continue;
    const content = (item as Record<string, unknown>).content;
    const first = Array.isArray(content) ? content[0] : content;
    const firstText = typeof first === "string"
      ? first
      : typeof first === "object" && first !== null
      ? String((first as Record<string, unknown>).text ?? "")
      : "";
    if (PREAMBLE.test(firstText)) continue;
    return item;
  }
  return null;
}

function fingerprintOf(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const b = body as Record<string, unknown>;
  const list = Array.isArray(b.messages) ? b.messages : Array.isArray(b.contents) ? b.contents : b.input;
  const items = typeof list === "string" ? [list] : Array.isArray(list) ? list : null;
  if (!items) return null;
  const first = firstUserItem(items);
  if (first === null) return null;
  return createHash("sha256").update(itemText(first)).digest("hex");
}

const REPO_PATTERNS = [
  /Primary working directory:\s*([^\s"\\]+)/,
  /Working directory:\s*([^\s"\\]+)/,
  /<cwd>([^<"\\]+)<\/cwd>/,
  /Workspace Directories:\*\*(?:\\n|\s)+\s*-\s*([^\s"\\]+)/,
  /I'm currently working in the directory:\s*([^\s"\\]+)/,
];
const BRANCH_PATTERNS = [/Current branch:\s*([^\s"\\]+)/, /<branch>([^<"\\]+)<\/branch>/];

function repoOf(text: string): { repo: string | null; branch: string | null } {
  const find = (patterns: RegExp[]) => {
    for (const p of patterns) {
      const m = text.match(p);
      if (m) return m[1];
    }
    return null;
  };
  return { repo: find(REPO_PATTERNS), branch: find(BRANCH_PATTERNS) };
}
