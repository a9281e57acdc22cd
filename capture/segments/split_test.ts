import assert from "node:assert/strict";
import { clientExchange, clientExchangeFiles } from "../../providers/_testing.ts";
import { MAX_ELEMENT_LITERAL_BYTES, MIN_SEGMENT_BYTES, splitBody } from "./split.ts";
import { type EndCache, scanArray, scanObject, valueEnd } from "./scan.ts";
import type { Span } from "./scan.ts";

const enc = new TextEncoder();
const ANY = { minBody: 0, minSegment: 0, maxElementLiteral: 0 };

/** Reassembles `bytes` from its spans and the gaps between them, as the manifest does. */
function reassemble(bytes: Uint8Array, spans: Span[]): Uint8Array {
  const out: number[] = [];
  let at = 0;
  for (const s of spans) {
    assert(s.start >= at && s.end > s.start, `spans in order: ${JSON.stringify(s)} after ${at}`);
    out.push(...bytes.subarray(at, s.start), ...bytes.subarray(s.start, s.end));
    at = s.end;
  }
  out.push(...bytes.subarray(at));
  return new Uint8Array(out);
}

/** Seeded PRNG (mulberry32) so a failing case can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON text of `value` with random whitespace wherever JSON allows it. */
function messy(value: unknown, r: () => number): string {
  const ws = () => [" ", "\n", "\t", "\r\n  ", ""][Math.floor(r() * 5)].repeat(r() < 0.5 ? 0 : 1);
  if (Array.isArray(value)) return `[${ws()}${value.map((v) => ws() + messy(v, r) + ws()).join(",")}${ws()}]`;
  if (value && typeof value === "object") {
    const members = Object.entries(value).map(([k, v]) =>
      `${ws()}${JSON.stringify(k)}${ws()}:${ws()}${messy(v, r)}${ws()}`
    );
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

function randomValue(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 4 : 6));
  const strings = ["plain", 'quote " and \\ backslash', "ünïcödé ✓ 😀", "brace { [ ] } , :", "\u0000\n\t"];
  if (pick === 0) return strings[Math.floor(r() * strings.length)];
  if (pick === 1) return Math.round(r() * 1e6) / 100 - 5000;
  if (pick === 2) return r() < 0.5 ? null : r() < 0.5;
  if (pick === 3) return "x".repeat(Math.floor(r() * 40));
  if (pick === 4) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  return Object.fromEntries(
    Array.from(
      { length: Math.floor(r() * 4) },
      (_, i) => [`k${i}${strings[i % 5]}`, randomValue(r, depth + 1)],
    ),
  );
}

/** A request body of one of the wire formats, with random messages. */
function randomRequest(
  r: () => number,
): { body: Record<string, unknown>; expected: (b: Record<string, unknown>) => unknown[] } {
  const list = Array.from(
    { length: 1 + Math.floor(r() * 6) },
    () => ({ role: "user", content: randomValue(r, 1) }),
  );
  const tools = [{ name: "t", input_schema: randomValue(r, 1) }];
  const formats = [
    {
      body: { model: "m", system: randomValue(r, 1), messages: list, tools, stream: true },
      of: ["system", "messages", "tools"],
    },
    { body: { model: "m", messages: list, tools }, of: ["messages", "tools"] },
    {
      body: { model: "m", instructions: "be brief", input: list, tools },
      of: ["instructions", "input", "tools"],
    },
    {
      body: { systemInstruction: { parts: [] }, contents: list, tools },
      of: ["systemInstruction", "contents", "tools"],
    },
  ];
  const f = formats[Math.floor(r() * formats.length)];
  const wrap = r() < 0.25;
  const body = wrap ? { model: "m", project: "p", request: f.body } : f.body;
  const expected = (b: Record<string, unknown>) => {
    const inner = (wrap ? b.request : b) as Record<string, unknown>;
    return Object.keys(inner).filter((k) => f.of.includes(k)).flatMap((k) =>
      ["messages", "input", "contents", "system"].includes(k) && Array.isArray(inner[k])
        ? inner[k] as unknown[]
        : [inner[k]]
    );
  };
  return { body, expected };
}

Deno.test("segments of random bodies with random whitespace reassemble byte for byte and cut exactly the values", () => {
  for (let seed = 1; seed <= 400; seed++) {
    const r = rng(seed);
    const { body, expected } = randomRequest(r);
    const text = messy(body, r);
    const bytes = enc.encode(text);
    const spans = splitBody(bytes, ANY);
    assert(spans, `seed ${seed}: splits`);
    assert.deepEqual(reassemble(bytes, spans), bytes, `seed ${seed}`);
    const values = spans.map((s) => JSON.parse(new TextDecoder().decode(bytes.subarray(s.start, s.end))));
    assert.deepEqual(values, expected(body), `seed ${seed}: each segment is one member value or element`);
  }
});

Deno.test("bodies that are small, not JSON objects or malformed are stored whole", () => {
  const big = "x".repeat(20_000);
  assert.deepEqual(splitBody(enc.encode(JSON.stringify({ messages: [big] }))) !== null, true);
  assert.deepEqual(splitBody(enc.encode(JSON.stringify({ messages: ["short"] }))), null);
  assert.deepEqual(splitBody(enc.encode(JSON.stringify([{ messages: [big] }]))), null);
  assert.deepEqual(splitBody(enc.encode(`{"messages": ["${big}", }`)), null);
  assert.deepEqual(splitBody(enc.encode(`{"messages": ["${big}"`)), null);
  assert.deepEqual(splitBody(enc.encode(`not json ${big}`)), null);
  assert.deepEqual(
    splitBody(enc.encode(JSON.stringify({ model: "m", prompt: big }))),
    null,
    "nothing to cut",
  );
});

Deno.test("every recorded client request body splits and reassembles byte for byte", () => {
  let split = 0;
  for (const file of clientExchangeFiles()) {
    const ex = clientExchange(file);
    if (ex.body === null || typeof ex.body !== "object") continue;
    for (const text of [JSON.stringify(ex.body), JSON.stringify(ex.body, null, 2)]) {
      const bytes = enc.encode(text);
      const spans = splitBody(bytes, { minBody: 0 });
      if (!spans) continue;
      split++;
      assert.deepEqual(reassemble(bytes, spans), bytes, file);
      for (const s of spans) JSON.parse(new TextDecoder().decode(bytes.subarray(s.start, s.end)));
    }
  }
  assert(split >= 20, `recorded chat bodies were split (${split})`);
});

/** A message shaped like an agent's: text and tool results large enough to be cut out of it. */
function agentMessage(r: () => number, i: number): unknown {
  const text = (n: number) => Array.from({ length: n }, (_, k) => `line ${k} of ${i} "q" \\ ✓\n`).join("");
  const blocks = Array.from(
    { length: 1 + Math.floor(r() * 3) },
    (_, b) =>
      r() < 0.5
        ? { type: "tool_result", tool_use_id: `toolu_${i}_${b}`, content: text(Math.floor(r() * 60)) }
        : {
          type: "text",
          text: text(Math.floor(r() * 60)),
          ...(r() < 0.3 ? { extra: randomValue(r, 2) } : {}),
        },
  );
  if (r() < 0.5) (blocks[blocks.length - 1] as Record<string, unknown>).cache_control = { type: "ephemeral" };
  return { role: i % 2 ? "assistant" : "user", content: r() < 0.2 ? text(40) : blocks };
}

/** The element spans of every per-element member (`messages`, `system` lists…), as the oracle sees them. */
function elementSpans(bytes: Uint8Array): Span[] {
  const top = scanObject(bytes, bytes.indexOf(0x7b))!;
  return top.filter((m) =>
    ["messages", "system", "input", "contents"].includes(m.key) && bytes[m.valueStart] === 0x5b
  )
    .flatMap((m) => scanArray(bytes, m.valueStart)!);
}

Deno.test("large values of messages are cut out: exact reassembly, segments inside one element, little literal left", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed);
    const messages = Array.from({ length: 1 + Math.floor(r() * 8) }, (_, i) => agentMessage(r, i));
    const system = [{ type: "text", text: `billing ${seed}` }, { type: "text", text: "s".repeat(2000) }];
    const bytes = enc.encode(messy({ model: "m", system, messages, tools: [{ name: "t" }] }, r));
    const spans = splitBody(bytes, { minBody: 0 });
    if (!spans) continue;
    assert.deepEqual(reassemble(bytes, spans), bytes, `seed ${seed}`);
    const elements = elementSpans(bytes);
    for (const s of spans) {
      JSON.parse(new TextDecoder().decode(bytes.subarray(s.start, s.end)));
      assert(s.end - s.start >= MIN_SEGMENT_BYTES, `seed ${seed}: segment of ${s.end - s.start} bytes`);
      const owner = elements.find((e) => e.start <= s.start && s.end <= e.end);
      assert(owner, `seed ${seed}: a segment lies within one element`);
    }
    for (const e of elements) {
      const inside: Span[] = spans.filter((s) => e.start <= s.start && s.end <= e.end);
      if (inside.length === 1 && inside[0].start === e.start && inside[0].end === e.end) continue;
      const literal = e.end - e.start - inside.reduce((n: number, s: Span) => n + s.end - s.start, 0);
      if (inside.length) {
        assert(literal <= MAX_ELEMENT_LITERAL_BYTES, `seed ${seed}: ${literal} literal bytes`);
      }
    }
  }
});

Deno.test("a moved cache_control breakpoint or a new billing line leaves the large segments as they were", () => {
  const result = { type: "tool_result", tool_use_id: "toolu_1", content: "output line\n".repeat(400) };
  const before = {
    system: [{ type: "text", text: "x-billing: cch=1" }, {
      type: "text",
      text: "You are an agent. ".repeat(200),
    }],
    messages: [
      { role: "user", content: "do it ".repeat(100) },
      { role: "user", content: [{ ...result, cache_control: { type: "ephemeral" } }] },
    ],
  };
  const after = {
    system: [{ type: "text", text: "x-billing: cch=2" }, before.system[1]],
    messages: [before.messages[0], { role: "user", content: [result] }, { role: "assistant", content: "ok" }],
  };
  const segments = (body: unknown) => {
    const bytes = enc.encode(JSON.stringify(body));
    return new Set(
      splitBody(bytes, { minBody: 0 })!.map((s) => new TextDecoder().decode(bytes.subarray(s.start, s.end))),
    );
  };
  const a = segments(before), b = segments(after);
  assert.equal(a.size, 3, "system prompt text, first message, tool result text");
  assert.deepEqual(
    b,
    a,
    "the same three segments after the client rewrote the old message and the billing line",
  );
  assert(a.has(JSON.stringify(result.content)), "the tool result's text is a segment of its own");
});

Deno.test("every container end the scan records while walking is the end a fresh walk finds", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed);
    const bytes = enc.encode(
      messy({ messages: [randomValue(r, 0), agentMessage(r, seed)], tools: randomValue(r, 1) }, r),
    );
    const ends: EndCache = new Map();
    assert.equal(valueEnd(bytes, 0, ends), bytes.length, `seed ${seed}: the body is one value`);
    assert(ends.size > 1, `seed ${seed}: nested containers were recorded`);
    for (const [start, end] of ends) assert.equal(valueEnd(bytes, start), end, `seed ${seed} at ${start}`);
  }
});
