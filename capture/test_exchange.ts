/**
 * Test helper: builds exchanges and parsed results as the proxy and the provider parsers would hand them
 * to capture, with fake credentials in place so tests can prove they are stripped.
 * @module
 */
import type { Exchange } from "../core/exchange.ts";
import { newId } from "../core/ids.ts";
import type { ParsedRequest, ParsedResponse, ToolCall, Usage } from "../providers/types.ts";
import type { CaptureParsed } from "./sink.ts";

/** A fake API key that must never appear in anything stored. */
export const FAKE_KEY = "sk-ant-api03-SECRET-DO-NOT-STORE";

/** An Anthropic Messages exchange, complete, with overridable parts. */
export function fakeExchange(overrides: Partial<Exchange> & { at?: number } = {}): Exchange {
  const at = overrides.at ?? Date.now();
  const { at: _at, ...rest } = overrides;
  return {
    id: newId(at),
    connectionId: "conn-1",
    kind: "http",
    client: { developer: "alice", team: "platform", address: "127.0.0.1:50000", via: "proxy-auth" },
    target: { host: "api.anthropic.com", port: 443, upstreamOrigin: "https://api.anthropic.com" },
    provider: "anthropic",
    api: "anthropic.messages",
    request: {
      method: "POST",
      path: "/v1/messages?beta=true",
      headers: {
        "content-type": "application/json",
        "x-api-key": FAKE_KEY,
        "authorization": `Bearer ${FAKE_KEY}`,
        "cookie": `session=${FAKE_KEY}`,
        "proxy-authorization": "Basic YWxpY2U6c2VjcmV0LXRva2Vu",
        "anthropic-version": "2023-06-01",
      },
    },
    requestBody: null,
    response: {
      status: 200,
      headers: { "content-type": "text/event-stream", "set-cookie": `x=${FAKE_KEY}` },
    },
    timing: { start: at, upstreamConnected: at + 5, firstByte: at + 40, end: at + 400 },
    decisions: [],
    wsMessages: [],
    errors: [],
    outcome: "complete",
    ...rest,
  };
}

/** Usage with the given numbers, zero elsewhere. */
export function usage(partial: Partial<Usage> = {}): Usage {
  return {
    input: 0,
    cacheRead: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    output: 0,
    reasoning: 0,
    estimated: false,
    ...partial,
  };
}

/** Parsed request/response of a model turn. */
export function fakeParsed(options: {
  userText?: string | null;
  sessionId?: string | null;
  usage?: Usage;
  toolCalls?: ToolCall[];
  toolResults?: ParsedRequest["toolResults"];
  responseId?: string | null;
  previousResponseId?: string | null;
  text?: string;
  thinking?: string;
  model?: string;
} = {}): CaptureParsed {
  const request: ParsedRequest = {
    model: options.model ?? "claude-sonnet-4-5",
    stream: true,
    system: "You are Claude Code.",
    userText: options.userText === undefined ? "fix the bug" : options.userText,
    toolsOffered: ["Bash"],
    toolResults: options.toolResults ?? [],
    maxOutputTokens: 1024,
    sessionHints: {
      sessionId: options.sessionId ?? null,
      previousResponseId: options.previousResponseId ?? null,
    },
    messageCount: 1,
  };
  const response: ParsedResponse = {
    id: options.responseId ?? null,
    model: options.model ?? "claude-sonnet-4-5",
    text: options.text ?? "Done.",
    thinking: options.thinking ?? "",
    toolCalls: options.toolCalls ?? [],
    stopReason: "end_turn",
    usage: options.usage ?? usage({ input: 10, output: 5 }),
    errors: [],
    partial: false,
  };
  return { request, response };
}

/** A request body whose first user message is `prompt` (conversation fingerprint) plus `extra` turns. */
export function messagesBody(prompt: string, extra: string[] = []): Uint8Array {
  const messages = [{ role: "user", content: [{ type: "text", text: prompt }] }];
  for (const e of extra) messages.push({ role: "user", content: [{ type: "text", text: e }] });
  return new TextEncoder().encode(
    JSON.stringify({
      model: "claude-sonnet-4-5",
      system: "Primary working directory: /home/dev/recondo",
      messages,
    }),
  );
}
