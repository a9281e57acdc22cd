import assert from "node:assert/strict";
import { renderFields, renderTable, useColor } from "./table.ts";

Deno.test("a table aligns text left and numbers right under its headers", () => {
  const rows = [{ name: "alice", n: 5 }, { name: "bob", n: 1200 }];
  const text = renderTable(
    [{ header: "NAME", value: (r) => r.name }, { header: "TURNS", value: (r) => r.n }],
    rows,
    { color: false },
  );
  assert.equal(text, ["NAME   TURNS", "alice      5", "bob     1200"].join("\n"));
});

Deno.test("long cells are cut with an ellipsis and missing values show a dash", () => {
  const text = renderTable(
    [{ header: "PROMPT", value: (r: { p: string | null }) => r.p, max: 6 }],
    [{ p: "fix the flaky test" }, { p: null }],
    { color: false },
  );
  assert.deepEqual(text.split("\n"), ["PROMPT", "fix t…", "-"]);
});

Deno.test("NO_COLOR turns colour off and plain output has no escape codes", () => {
  assert.equal(useColor({ get: (n) => n === "NO_COLOR" ? "1" : undefined }), false);
  const text = renderFields([["id", "s1"], ["turns", 3]], { color: false });
  assert.equal(text, "id     s1\nturns  3");
  assert.ok(!text.includes("\x1b"));
});
