import assert from "node:assert/strict";
import { SseDecoder, type SseEvent } from "./sse.ts";

const encoder = new TextEncoder();

function decode(
  text: string,
  cuts: number[] = [],
  maxLineChars?: number,
): { events: SseEvent[]; errors: string[] } {
  const decoder = new SseDecoder({ maxLineChars });
  const bytes = encoder.encode(text);
  const events: SseEvent[] = [];
  const errors: string[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    const out = decoder.push(bytes.subarray(start, cut));
    events.push(...out.events);
    errors.push(...out.errors);
    start = cut;
  }
  const end = decoder.end();
  return { events: [...events, ...end.events], errors: [...errors, ...end.errors] };
}

Deno.test("LF, CRLF and lone CR all end lines, even when a CRLF is split across chunks", () => {
  const text = "event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\revent: c\ndata: 3\n\n";
  const expected = [{ event: "a", data: "1" }, { event: "b", data: "2" }, { event: "c", data: "3" }];
  for (let cut = 0; cut <= text.length; cut++) {
    assert.deepEqual(decode(text, [cut]).events, expected, `cut at ${cut}`);
  }
});

Deno.test("an event name applies to one event only, and data lines are joined with newlines", () => {
  const { events } = decode("event: x\ndata: a\ndata:b\n\ndata: c\n\n");
  assert.deepEqual(events, [{ event: "x", data: "a\nb" }, { event: null, data: "c" }]);
});

Deno.test("comments, id and retry fields and events without data are ignored", () => {
  const { events } = decode(": keep-alive\nid: 7\nretry: 10\n\nevent: empty\n\ndata: x\n\n");
  assert.deepEqual(events, [{ event: null, data: "x" }]);
});

Deno.test("a final event without its blank line is still dispatched at the end", () => {
  assert.deepEqual(decode("data: last").events, [{ event: null, data: "last" }]);
});

Deno.test("a multi-byte character split across chunks is decoded whole", () => {
  const text = "data: 🌍é\n\n";
  for (let cut = 0; cut <= encoder.encode(text).length; cut++) {
    assert.deepEqual(decode(text, [cut]).events, [{ event: null, data: "🌍é" }], `cut at ${cut}`);
  }
});

Deno.test("a too-long line drops its whole event and the following events still decode", () => {
  const text = `event: big\ndata: ${"z".repeat(100)}\n\ndata: small\n\n`;
  const { events, errors } = decode(text, [20, 60, 90], 50);
  assert.deepEqual(events, [{ event: null, data: "small" }]);
  assert.deepEqual(errors, ["SSE line longer than 50 characters was dropped"]);
});

Deno.test("many data lines that together exceed the bound drop the event", () => {
  const text = `${"data: 0123456789\n".repeat(10)}\ndata: ok\n\n`;
  const { events, errors } = decode(text, [], 50);
  assert.deepEqual(events, [{ event: null, data: "ok" }]);
  assert.deepEqual(errors, ["SSE event data longer than 50 characters was dropped"]);
});
