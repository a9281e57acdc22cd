import assert from "node:assert/strict";
import { clientExchange, clientExchangeFiles } from "../../providers/_testing.ts";
import { splitBody } from "./split.ts";
import type { Span } from "./scan.ts";

const enc = new TextEncoder();
const ANY = { minBody: 0, minSegment: 0 };

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
      ["messages", "input", "contents"].includes(k) ? inner[k] as unknown[] : [inner[k]]
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
