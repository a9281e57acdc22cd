import assert from "node:assert/strict";
import { csvField, toCsv } from "./csv.ts";

Deno.test("fields with a comma, quote or line break are quoted and inner quotes doubled (RFC 4180)", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("two\nlines"), '"two\nlines"');
  assert.equal(csvField(null), "");
  assert.equal(csvField(0.5), "0.5");
});

Deno.test("a CSV document is a header line then one CRLF-ended line per row", () => {
  assert.equal(
    toCsv(["team", "cost_usd"], [["alpha", 1.5], [null, 0]]),
    "team,cost_usd\r\nalpha,1.5\r\n,0\r\n",
  );
});
