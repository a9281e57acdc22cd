import assert from "node:assert/strict";
import { DEFLATE_FROM_CHARS, packText, rowText, UNREADABLE, withToolResultText } from "./packed_text.ts";

const code = Array.from({ length: 120 }, (_, i) => `  const value${i} = compute("ünïcödé ✓", ${i});\n`).join(
  "",
);

Deno.test("long text is stored deflated and reads back exactly; short or incompressible text stays plain", () => {
  const long = packText(code);
  assert.equal(long.plain, "");
  assert(long.deflated && long.deflated.length * 3 < code.length, "code deflates to under a third");
  assert.equal(rowText(long.plain, long.deflated), code);
  const short = "x".repeat(DEFLATE_FROM_CHARS - 1);
  assert.deepEqual(packText(short), { plain: short, deflated: null });
  const noise = Array.from(
    crypto.getRandomValues(new Uint8Array(3000)),
    (b) => String.fromCharCode(33 + b % 90),
  )
    .join("");
  assert.deepEqual(packText(noise), { plain: noise, deflated: null }, "random text stays plain");
  assert.equal(rowText("plain", null), "plain");
});

Deno.test("rows as read carry the text in content, whichever column held it; damage gives a marker, not a throw", () => {
  const { deflated } = packText(code);
  const [a, b] = withToolResultText([
    { id: "1", content: "", content_deflated: deflated },
    { id: "2", content: "short", content_deflated: null },
  ]);
  assert.deepEqual([a, b], [{ id: "1", content: code }, { id: "2", content: "short" }]);
  // Cut short: the deflate stream ends before its final block.
  const cut = rowText("", deflated!.subarray(0, 8));
  assert.ok(cut.startsWith(UNREADABLE), cut);
});
