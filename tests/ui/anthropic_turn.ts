/**
 * Test support: the request and response bodies of one Claude Code turn on the Anthropic Messages API,
 * and what the real provider parsers make of them. Seeded sessions use it so that the Session page (parsed
 * fields) and the Turn page (stored bytes) show the same conversation.
 * @module
 */
import { parseRequest } from "../../providers/request_parser.ts";
import { createResponseParser } from "../../providers/response_parser.ts";
import type { CaptureParsed } from "../../capture/sink.ts";

/** One step of a scripted conversation: what the model answers, and the tool results it is then sent. */
export interface ScriptedTurn {
  thinking?: string;
  text: string;
  toolCalls: { id: string; name: string; input: Record<string, unknown> }[];
  /** Results of the previous turn's calls, sent in this turn's request. */
  toolResults: { callId: string; content: string; isError: boolean }[];
}

/** Bodies and parse of turn `index` of `turns`, whose first request carries `prompt`. */
export function anthropicTurn(
  prompt: string,
  turns: ScriptedTurn[],
  options: { index: number; sessionId: string; input: number; output: number },
): { request: Uint8Array; response: Uint8Array; parsed: CaptureParsed } {
  const { index } = options;
  const messages: { role: string; content: Record<string, unknown>[] }[] = [
    { role: "user", content: [{ type: "text", text: prompt }] },
  ];
  for (const [i, t] of turns.slice(0, index).entries()) {
    messages.push({ role: "assistant", content: assistantContent(t) });
    messages.push({ role: "user", content: turns[i + 1].toolResults.map(resultBlock) });
  }
  const request = new TextEncoder().encode(JSON.stringify({
    model: "claude-sonnet-4-5",
    max_tokens: 32000,
    stream: true,
    system: [{ type: "text", text: "Primary working directory: /home/dev/recondo" }],
    metadata: { user_id: JSON.stringify({ session_id: options.sessionId }) },
    tools: [{ name: "Bash", input_schema: { type: "object" } }, {
      name: "Edit",
      input_schema: { type: "object" },
    }],
    messages,
  }));
  const turn = turns[index];
  const response = new TextEncoder().encode(sse(turn, options));
  const parser = createResponseParser("anthropic.messages", "text/event-stream");
  parser.push(response);
  return {
    request,
    response,
    parsed: { request: parseRequest("anthropic.messages", request, {}), response: parser.finish() },
  };
}

function assistantContent(t: ScriptedTurn): Record<string, unknown>[] {
  return [
    ...(t.thinking ? [{ type: "thinking", thinking: t.thinking, signature: "sig" }] : []),
    { type: "text", text: t.text },
    ...t.toolCalls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.input })),
  ];
}

function resultBlock(r: ScriptedTurn["toolResults"][number]): Record<string, unknown> {
  return { type: "tool_result", tool_use_id: r.callId, content: r.content, is_error: r.isError };
}

/** The streamed answer as Anthropic sends it: one content block per thinking, text and tool call. */
function sse(turn: ScriptedTurn, usage: { index: number; input: number; output: number }): string {
  const events: [string, Record<string, unknown>][] = [[
    "message_start",
    {
      message: {
        id: `msg_seed_${usage.index}`,
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [],
        stop_reason: null,
        usage: { input_tokens: usage.input, output_tokens: 1 },
      },
    },
  ]];
  type Block = [Record<string, unknown>, Record<string, unknown>];
  const blocks: Block[] = [];
  if (turn.thinking) {
    blocks.push([{ type: "thinking", thinking: "" }, { type: "thinking_delta", thinking: turn.thinking }]);
  }
  blocks.push([{ type: "text", text: "" }, { type: "text_delta", text: turn.text }]);
  for (const c of turn.toolCalls) {
    blocks.push([
      { type: "tool_use", id: c.id, name: c.name, input: {} },
      { type: "input_json_delta", partial_json: JSON.stringify(c.input) },
    ]);
  }
  for (const [index, [start, delta]] of blocks.entries()) {
    events.push(["content_block_start", { index, content_block: start }]);
    events.push(["content_block_delta", { index, delta }]);
    events.push(["content_block_stop", { index }]);
  }
  const stopReason = turn.toolCalls.length > 0 ? "tool_use" : "end_turn";
  events.push(["message_delta", {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output },
  }]);
  events.push(["message_stop", {}]);
  return events.map(([type, data]) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`).join(
    "",
  );
}
