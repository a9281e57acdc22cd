import assert from "node:assert/strict";
import { fixtureBytes, parseBytes, RESPONSE_FIXTURES } from "./_testing.ts";
import { JsonValueEnds, SseEventEnds } from "./event_ends.ts";
import { JsonValueStream } from "./json_stream.ts";
import { createResponseParser } from "./response_parser.ts";
import type { ApiName, StreamEvent } from "./types.ts";

const encoder = new TextEncoder();

/** Event ends found when `text` arrives cut at `cuts`, as offsets in the whole text. */
function endsOf(scanner: SseEventEnds | JsonValueEnds, text: string, cuts: number[] = []): number[] {
  const bytes = encoder.encode(text);
  const out: number[] = [];
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    out.push(...scanner.ends(bytes.subarray(from, to)).map((end) => end + from));
    from = to;
  }
  return out;
}

Deno.test("SSE event ends fall after each blank line, LF or CRLF, however the bytes are cut", () => {
  const lf = "event: a\ndata: 1\n\n: ping\n\ndata: é\n\ndata: tail";
  const crlf = "data: 1\r\n\r\ndata: 2\r\n\r\n";
  for (const [text, expected] of [[lf, [18, 26, 36]], [crlf, [11, 22]]] as const) {
    const bytes = encoder.encode(text);
    assert.deepEqual(endsOf(new SseEventEnds(), text), expected);
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(endsOf(new SseEventEnds(), text, [cut]), expected, `cut at ${cut}`);
    }
    const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
    assert.deepEqual(endsOf(new SseEventEnds(), text, everyByte), expected, "one byte at a time");
  }
});

Deno.test("a blank line ended by a lone CR is not found (the piece holding the final event only grows)", () => {
  assert.deepEqual(endsOf(new SseEventEnds(), "data: a\rb\n\rdata: c\n"), []);
});

Deno.test("JSON array elements end at their closing brace; braces in strings do not count", () => {
  const text = ' [{"t":"} \\" ]"},\n{"n":{"m":[1]}}]';
  const expected = [16, 33, 34];
  assert.deepEqual(endsOf(new JsonValueEnds(), text), expected);
  for (let cut = 1; cut < text.length; cut++) {
    assert.deepEqual(endsOf(new JsonValueEnds(), text, [cut]), expected, `cut at ${cut}`);
  }
});

Deno.test("a JSON body that is one object has no inner event ends", () => {
  assert.deepEqual(endsOf(new JsonValueEnds(), '{"a":[{"b":1}],"c":{}}', [3, 9]), []);
});

/** The first prefix length at which the parser has the final event (binary search: it stays final). */
function finalCompleteAt(api: ApiName, contentType: string | null, bytes: Uint8Array): number | null {
  const finalIn = (length: number) =>
    createResponseParser(api, contentType).pushFindingFinal(bytes.subarray(0, length)).finalAt !== null;
  if (!finalIn(bytes.length)) return null;
  let low = 0, high = bytes.length;
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (finalIn(mid)) high = mid;
    else low = mid;
  }
  return high;
}

/**
 * Where the final event's bytes begin, found independently of the scanners: after the last blank line (SSE)
 * or the last completed array element (JSON) or message (AWS event stream, by each message's length prefix)
 * before the final event completes; 0 for a JSON object body.
 */
function finalStart(bytes: Uint8Array, complete: number, sse: boolean, eventStream = false): number {
  let start = 0;
  if (eventStream) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at + 4 <= bytes.length; at += view.getUint32(at)) {
      if (at + view.getUint32(at) < complete) start = at + view.getUint32(at);
    }
  } else if (sse) {
    const text = new TextDecoder("latin1").decode(bytes); // one character per byte
    for (const match of text.matchAll(/\r?\n\r?\n/g)) {
      if (match.index + match[0].length < complete) start = match.index + match[0].length;
    }
  } else if (new TextDecoder().decode(bytes).trimStart().startsWith("[")) {
    // The JSON splitter, fed byte by byte, completes an element exactly at its closing brace.
    const splitter = new JsonValueStream();
    for (let at = 1; at < complete; at++) {
      if (splitter.push(bytes.subarray(at - 1, at)).values.length > 0) start = at;
    }
  }
  return start;
}

/** Feeds `bytes` cut at `cuts` as strict relaying does; returns the bytes sent before the hold began. */
function relayed(api: ApiName, contentType: string | null, bytes: Uint8Array, cuts: number[]) {
  const parser = createResponseParser(api, contentType);
  const events: StreamEvent[] = [];
  let sent: number | null = null;
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    const found = parser.pushFindingFinal(bytes.subarray(from, to));
    events.push(...found.events);
    if (sent === null && found.finalAt !== null) sent = from + found.finalAt;
    from = to;
  }
  return { sent: sent ?? bytes.length, parsed: { result: parser.finish(), events } };
}

Deno.test("every fixture cut in two at every byte holds exactly the final event's bytes and parses the same", () => {
  for (const { file, api, contentType } of RESPONSE_FIXTURES) {
    const bytes = fixtureBytes(file);
    const whole = parseBytes(api, contentType, bytes);
    const complete = finalCompleteAt(api, contentType, bytes);
    const start = complete === null
      ? bytes.length
      : finalStart(bytes, complete, file.endsWith(".sse"), file.endsWith(".eventstream"));
    for (let cut = 1; cut < bytes.length; cut++) {
      const { sent, parsed } = relayed(api, contentType, bytes, [cut]);
      // A cut inside the final event sends its head (useless without its end); otherwise everything before
      // the final event goes out at once and the final event waits, even when it shares a chunk with them.
      const expected = complete !== null && start < cut && cut < complete ? cut : start;
      if (sent !== expected) assert.equal(sent, expected, `${file} cut at ${cut} of ${bytes.length}`);
      assert.deepEqual(parsed, whole, `${file} cut at ${cut}`);
    }
    const oneByOne = relayed(api, contentType, bytes, Array.from({ length: bytes.length }, (_, i) => i));
    assert.equal(oneByOne.sent, complete === null ? bytes.length : complete - 1, `${file} byte by byte`);
  }
});

const EVENT_STREAM = "application/vnd.amazon.eventstream";

Deno.test("the held part starts with the provider's final event", () => {
  const cases: [string, ApiName, string, RegExp][] = [
    ["anthropic/text.sse", "anthropic.messages", "text/event-stream", /^event: message_stop\n/],
    ["anthropic/error_midstream.sse", "anthropic.messages", "text/event-stream", /^event: error\n/],
    ["openai_chat/text_usage.sse", "openai.chat_completions", "text/event-stream", /^data: \[DONE\]\n\n$/],
    ["openai_responses/text.sse", "openai.responses", "text/event-stream", /^event: response\.completed\n/],
    ["google/text.sse", "google.stream_generate", "text/event-stream", /"finishReason"/],
    ["google/stream_array.json", "google.stream_generate", "application/json", /^, \{[^]*"finishReason"/],
    ["anthropic/message.json", "anthropic.messages", "application/json", /^\{/],
    ["bedrock/converse_stream.eventstream", "bedrock.converse_stream", EVENT_STREAM, /metadata[^]*"usage"/],
    ["bedrock/invoke_stream_exception.eventstream", "bedrock.invoke_stream", EVENT_STREAM, /exception/],
  ];
  for (const [file, api, contentType, final] of cases) {
    const bytes = fixtureBytes(file);
    const { finalAt } = createResponseParser(api, contentType).pushFindingFinal(bytes);
    assert.notEqual(finalAt, null, file);
    assert.match(new TextDecoder().decode(bytes.subarray(finalAt!)), final, file);
  }
});
