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

Deno.test("shared() copies into shared memory of its own; bytes() hands a single large chunk over as it is", () => {
  const large = new Uint8Array(16 * 1024);
  const whole = new BodyCollector("request");
  whole.add(large);
  assert.equal(whole.bytes(), large);
  const chunk = new Uint8Array([9, 8, 7]);
  const body = new BodyCollector("request");
  body.add(chunk);
  const copy = body.shared();
  chunk[0] = 0;
  assert.deepEqual([...copy], [9, 8, 7], "the copy does not change with the chunk it came from");
  assert.equal(copy.byteOffset, 0);
  assert.ok(copy.buffer instanceof SharedArrayBuffer, "posted to the worker without a copy");
  assert.equal(copy.buffer.byteLength, 3, "a buffer of its own");
});

Deno.test("small chunks are copied out of the larger buffers they are views into", () => {
  const body = new BodyCollector("response");
  const readBuffers = Array.from({ length: 200 }, (_, i) => new Uint8Array(64 * 1024).fill(i % 251));
  for (const buffer of readBuffers) body.add(buffer.subarray(0, 300));
  assert.equal(body.length, 200 * 300);
  const bytes = body.bytes();
  assert.equal(bytes.length, 200 * 300);
  for (let i = 0; i < 200; i++) assert.equal(bytes[i * 300 + 299], i % 251);
  readBuffers[0].fill(255);
  assert.equal(body.bytes()[0], 0, "the kept bytes are the collector's own, not the read buffer's");
});

Deno.test("a large chunk that owns its buffer is kept without a copy, in order with copied ones", () => {
  const body = new BodyCollector("request");
  const big = new Uint8Array(32 * 1024).fill(7);
  body.add(new Uint8Array([1, 2]));
  body.add(big);
  body.add(new Uint8Array([3]));
  const bytes = body.bytes();
  assert.deepEqual([bytes[0], bytes[1], bytes[2], bytes[2 + big.length - 1], bytes[bytes.length - 1]], [
    1,
    2,
    7,
    7,
    3,
  ]);
  const alone = new BodyCollector("request");
  alone.add(big);
  assert.equal(alone.bytes(), big);
});
