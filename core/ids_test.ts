import assert from "node:assert/strict";
import { newId } from "./ids.ts";

Deno.test("an id is a UUID v7 whose first 48 bits are the epoch milliseconds", () => {
  for (const now of [0, 255, 0xffff_ffff, 0x1_0000_0000, 1_795_880_642_776, 2 ** 48 - 1]) {
    const id = newId(now);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), now);
  }
});

Deno.test("ids from different milliseconds sort by time and ids never repeat", () => {
  assert.ok(newId(1_000) < newId(1_001));
  assert.ok(newId(0xffff_ffff) < newId(0x1_0000_0000));
  // More ids than one refill of the random pool holds.
  const ids = Array.from({ length: 5_000 }, () => newId(42));
  assert.equal(new Set(ids).size, ids.length);
});
