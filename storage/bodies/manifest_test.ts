import assert from "node:assert/strict";
import { decodeParts, encodeParts, type Part } from "./manifest.ts";

const enc = new TextEncoder();
const literal = (text: string): Part => ({ kind: "literal", bytes: enc.encode(text) });
const segment = (n: number): Part => ({
  kind: "segment",
  sha256: n.toString(16).padStart(64, "a"),
  size: 1000 + n,
});

function tail(turn: number): Part[] {
  return [
    literal(
      `,"cache_control":{"type":"ephemeral"}}]}],"system":[{"type":"text","text":"billing cch=${turn}"},`,
    ),
    segment(1),
    literal(`,"tools":`),
    segment(2),
    literal(
      `,"metadata":{"user_id":"dev"},"max_tokens":32000,"diagnostics":{"previous_message_id":"msg_${turn}"}}`,
    ),
  ];
}

Deno.test("manifest parts round-trip with and without a base, literals that are not UTF-8 included", () => {
  const base = [literal(`{"messages":[`), segment(7), ...tail(1)];
  const own = [
    segment(8),
    literal("\u00e9 text"),
    { kind: "literal", bytes: new Uint8Array([0xc3]) },
    ...tail(2),
  ] as Part[];
  for (const b of [null, base]) assert.deepEqual(decodeParts(encodeParts(own, b), b), own);
});

Deno.test("a turn's own parts shrink to what changed against its base's parts", () => {
  const base = [literal(`{"model":"m","messages":[`), segment(7), ...tail(1)];
  const own = [segment(8), ...tail(2)];
  const alone = encodeParts(own, null).length;
  const delta = encodeParts(own, base).length;
  assert(delta * 2 < alone, `against the base ${delta} characters, alone ${alone}`);
});

Deno.test("manifest rows written as plain JSON before compression stay readable", () => {
  const row = JSON.stringify([["s", "ab".repeat(32), 12], ["l", btoa('{"a":')], ["t", "}"]]);
  assert.deepEqual(decodeParts(row), [
    { kind: "segment", sha256: "ab".repeat(32), size: 12 },
    literal('{"a":'),
    literal("}"),
  ]);
});
