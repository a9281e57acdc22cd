/**
 * A long Claude Code session, request by request, built from the request Claude Code 2.1.332 really sent
 * (tests/fixtures/clients/claude-code/claude/004-…json): its ~30 KB system prompt, ~48 KB of tools and ~11
 * KB first user message are the stable prefix; every turn appends the assistant's `tool_use` and the user's
 * `tool_result` (2–6 KB of code-like text), and the `cache_control` breakpoint moves to the newest message,
 * as Claude Code does. What changes per request besides the tail also changes as it does in the recording:
 * the billing line's `cch=`/`cc_prev_req=`, `diagnostics.previous_message_id`, `x-client-request-id`.
 * Deterministic (seeded), so runs compare.
 * @module
 */

const FIXTURE = new URL(
  "../tests/fixtures/clients/claude-code/claude/004-api.anthropic.com_v1_messages.json",
  import.meta.url,
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Block = { [key: string]: Json };
type Message = { role: "user" | "assistant"; content: Block[] };

/** The recorded request: head, body, and the SSE answer the fake provider gave. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body: { [key: string]: Json } & { messages: Message[]; system: Block[]; tools: Block[] };
}

/** One request of the session, as the client would send it, and the upstream's answer. */
export interface SessionTurn {
  /** 1-based. */
  turn: number;
  path: string;
  headers: Record<string, string>;
  requestBody: Uint8Array;
  responseHeaders: Record<string, string>;
  /** An Anthropic SSE stream answering with the next tool call. */
  responseBody: Uint8Array;
}

/** Reads the recorded Claude Code request the session is shaped from. */
export async function loadClaudeCodeTemplate(): Promise<RecordedRequest> {
  return JSON.parse(await Deno.readTextFile(FIXTURE)) as RecordedRequest;
}

/** mulberry32: a small seeded PRNG, enough to make tool output that compresses like real output. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOOLS = ["Bash", "Read", "Edit", "Read", "Bash", "Write"] as const;

/** Lines like a numbered file read or command output, `bytes` long, words drawn from `vocabulary`. */
export function toolOutput(vocabulary: string[], bytes: number, seed: number): string {
  const next = random(seed);
  const pick = () => vocabulary[Math.floor(next() * vocabulary.length)];
  const lines: string[] = [];
  let size = 0;
  for (let line = 1; size < bytes; line++) {
    const indent = "  ".repeat(Math.floor(next() * 4));
    const words = Array.from({ length: 3 + Math.floor(next() * 9) }, pick).join(" ");
    const text = `${String(line).padStart(6)}\t${indent}${words}`;
    lines.push(text);
    size += text.length + 1;
  }
  return lines.join("\n").slice(0, bytes);
}

function toolInput(tool: string, turn: number, next: () => number): Block {
  const file = `/home/dev/project/src/module_${turn % 37}/file_${Math.floor(next() * 500)}.ts`;
  switch (tool) {
    case "Bash":
      return { command: `grep -rn "handler_${turn}" src/ | head -80`, description: "Search the handlers" };
    case "Edit":
      return {
        file_path: file,
        old_string: `const limit = ${turn};`,
        new_string: `const limit = ${turn + 1};`,
      };
    case "Write":
      return { file_path: file, content: `export const turn = ${turn};\n` };
    default:
      return { file_path: file };
  }
}

/**
 * The requests of a `turns`-turn session (request 1 is the recorded first prompt alone; request k carries
 * k − 1 tool calls and results), each with its answer. `seed` varies the session id and the tool output.
 */
export function* claudeCodeSession(
  template: RecordedRequest,
  turns: number,
  seed = 1,
): Generator<SessionTurn> {
  const next = random(seed * 7919);
  const vocabulary =
    (template.body.system.map((b) => String(b.text ?? "")).join(" ").match(/[\w./:()=<>-]+/g) ??
      ["x"]).slice(0, 4000);
  const sessionId = `00000000-0000-4000-8000-${String(seed).padStart(12, "0")}`;
  const base = structuredClone(template.body);
  const metadata = base.metadata as { user_id: string };
  metadata.user_id = metadata.user_id.replace(/"session_id":"[^"]*"/, `"session_id":"${sessionId}"`);
  const first = structuredClone(base.messages[0]);
  const history: Message[] = [first];
  const encoder = new TextEncoder();
  let previousMessage: string | null = null;
  for (let turn = 1; turn <= turns; turn++) {
    // The breakpoint sits on the newest message's last block only.
    for (const message of history) for (const block of message.content) delete block.cache_control;
    const newest = history[history.length - 1].content;
    newest[newest.length - 1].cache_control = { type: "ephemeral" };
    const system = structuredClone(base.system);
    system[0].text = String(system[0].text)
      .replace(/cch=\w+/, `cch=${(seed * 100_000 + turn).toString(16).slice(-5)}`)
      .replace(/cc_prev_req=\w+/, `cc_prev_req=req_bench_${turn - 1}`);
    const body = {
      ...base,
      system,
      messages: history,
      diagnostics: { previous_message_id: previousMessage },
    };
    const headers = Object.fromEntries(template.headers.filter(([name]) => name !== "content-length"));
    headers["x-claude-code-session-id"] = sessionId;
    headers["x-client-request-id"] = `${sessionId.slice(0, 24)}${String(turn).padStart(12, "0")}`;
    const requestBody = encoder.encode(JSON.stringify(body));
    headers["content-length"] = String(requestBody.length);

    const tool = TOOLS[turn % TOOLS.length];
    const toolUseId = `toolu_bench_${seed}_${turn}`;
    const input = toolInput(tool, turn, next);
    const messageId = `msg_bench_${seed}_${turn}`;
    yield {
      turn,
      path: template.path,
      headers,
      requestBody,
      responseHeaders: {
        "content-type": "text/event-stream; charset=utf-8",
        "request-id": `req_bench_${turn}`,
      },
      responseBody: encoder.encode(toolUseStream(messageId, toolUseId, tool, input, requestBody.length)),
    };
    previousMessage = messageId;
    const resultBytes = 2048 + Math.floor(next() * 4097);
    history.push(
      { role: "assistant", content: [{ type: "tool_use", id: toolUseId, name: tool, input }] },
      {
        role: "user",
        content: [{
          tool_use_id: toolUseId,
          type: "tool_result",
          content: toolOutput(vocabulary, resultBytes, seed * 1_000_003 + turn),
          is_error: false,
        }],
      },
    );
  }
}

/** An Anthropic Messages SSE answer that calls `tool` with `input`, usage scaled to the request. */
function toolUseStream(
  id: string,
  toolUseId: string,
  tool: string,
  input: Block,
  requestBytes: number,
): string {
  const cached = Math.floor(requestBytes / 4);
  const usage = { input_tokens: 6, cache_creation_input_tokens: 1500, cache_read_input_tokens: cached };
  const json = JSON.stringify(input);
  const events: [string, Json][] = [
    ["message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    }],
    ["content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: toolUseId, name: tool, input: {} },
    }],
    ...[json.slice(0, json.length >> 1), json.slice(json.length >> 1)].map((part): [string, Json] => [
      "content_block_delta",
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: part } },
    ]),
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { ...usage, output_tokens: 60 },
    }],
    ["message_stop", { type: "message_stop" }],
  ];
  return events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join("");
}
