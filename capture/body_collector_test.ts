import assert from "node:assert/strict";
import { BodyCollector } from "./body_collector.ts";

Deno.test("a body longer than the limit is cut there and the cut is named", () => {
  const body = new BodyCollector("response", 5);
  body.add(new Uint8Array([1, 2, 3]));
  body.add(new Uint8Array([4, 5, 6, 7]));
  body.add(new Uint8Array([8]));
  assert.deepEqual([...body.bytes()], [1, 2, 3, 4, 5]);
  assert.equal(body.cut, "capture: response body cut at 5 bytes");
  const whole = new BodyCollector("request", 5);
  whole.add(new Uint8Array([1, 2, 3, 4, 5]));
  assert.equal(whole.cut, null, "exactly at the limit is not a cut");
});

Deno.test("shared() copies into shared memory of its own; bytes() hands a single chunk over as it is", () => {
  const chunk = new Uint8Array([9, 8, 7]);
  const body = new BodyCollector("request");
  body.add(chunk);
  assert.equal(body.bytes(), chunk);
  const copy = body.shared();
  chunk[0] = 0;
  assert.deepEqual([...copy], [9, 8, 7], "the copy does not change with the chunk it came from");
  assert.equal(copy.byteOffset, 0);
  assert.ok(copy.buffer instanceof SharedArrayBuffer, "posted to the worker without a copy");
  assert.equal(copy.buffer.byteLength, 3, "a buffer of its own");
});
