import assert from "node:assert/strict";
import { crc32 } from "./crc32.ts";

Deno.test("crc32 gives the IEEE check values", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array()), 0);
  assert.equal(crc32(new Uint8Array([0xff, 0xff, 0xff, 0xff])), 0xffffffff);
});
