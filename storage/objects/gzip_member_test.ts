import assert from "node:assert/strict";
import zlib from "node:zlib";
import { gunzipBytes } from "./content.ts";
import { gzipMember, STORE_BELOW_BYTES, storedGzip, windowBitsFor } from "./gzip_member.ts";

function bytesOf(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

Deno.test("a stored gzip member decompresses to the exact bytes, empty and across 64 KiB blocks", async () => {
  for (const length of [0, 1, 300, 65_535, 65_536, 200_000]) {
    const bytes = bytesOf(length);
    const member = storedGzip(bytes);
    assert.deepEqual(await gunzipBytes(member), bytes, `length ${length} via gunzip`);
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(member)), bytes, `length ${length} via gunzipSync`);
    // Framing only: header, 5 bytes per block, the bytes, CRC and size.
    assert.equal(member.length, 10 + 5 * Math.max(1, Math.ceil(length / 65_535)) + length + 8);
  }
});

Deno.test("a garbled stored member fails its CRC instead of decompressing to other bytes", async () => {
  const member = storedGzip(new TextEncoder().encode('{"role":"user","content":"hello"}'));
  member[20] ^= 1;
  await assert.rejects(() => gunzipBytes(member));
});

Deno.test("short bodies are stored, longer ones deflated, and both read back exactly", async () => {
  const short = new TextEncoder().encode('{"a":"' + "x".repeat(STORE_BELOW_BYTES - 20) + '"}');
  const long = new TextEncoder().encode(JSON.stringify({ text: "lorem ipsum dolor ".repeat(200) }));
  const big = new TextEncoder().encode(JSON.stringify({ text: "sit amet ".repeat(20_000) }));
  const storedShort = await gzipMember(short);
  assert.equal(storedShort.length, short.length + 23, "a short body is framed, not deflated");
  assert.deepEqual(await gunzipBytes(storedShort), short);
  for (const body of [long, big]) {
    const member = await gzipMember(body);
    assert.ok(member.length < body.length / 4, `a ${body.length}-byte body is deflated`);
    assert.deepEqual(await gunzipBytes(member), body);
  }
});

Deno.test("a body deflated in a window sized to it reads back exactly and compresses as with the full window", async () => {
  const text = new TextEncoder().encode(
    Array.from({ length: 4000 }, (_, i) => `{"turn":${i},"text":"tool result ${i * 7919 % 1009}"}`).join(
      "\n",
    ),
  );
  for (const length of [STORE_BELOW_BYTES, 2048, 3834, 3835, 16_000, 32_506, 32_507, 64 * 1024]) {
    const body = text.subarray(0, length);
    const member = await gzipMember(body);
    assert.deepEqual(await gunzipBytes(member), body, `length ${length}`);
    assert.equal(member.length, zlib.gzipSync(body).length, `length ${length}: same size as a 32 KiB window`);
  }
  assert.deepEqual([1, 250, 251, 2048, 32_506, 32_507, 1 << 20].map(windowBitsFor), [
    9,
    9,
    10,
    12,
    15,
    15,
    15,
  ]);
});
