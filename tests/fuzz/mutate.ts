/**
 * Byte-level mutations of recorded inputs — flip, overwrite, insert, delete, duplicate, truncate — and
 * splitting a byte string at random boundaries, as a network would deliver it.
 * @module
 */
import type { Rng } from "./rng.ts";

/** Bytes that tend to matter to text protocols: delimiters, line ends, NUL, UTF-8 lead and stray bytes. */
const INTERESTING = [
  0x00,
  0x0a,
  0x0d,
  0x20,
  0x22,
  0x2c,
  0x3a,
  0x5b,
  0x5c,
  0x5d,
  0x7b,
  0x7d,
  0x7f,
  0x80,
  0xc3,
  0xe2,
  0xef,
  0xf0,
  0xff,
  0x30,
  0x39,
  0x2d,
  0x2e,
  0x65,
];

function byte(rng: Rng): number {
  return rng.chance(0.5) ? rng.pick(INTERESTING) : rng.int(256);
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Applies one to `maxRounds` random mutations to a copy of `input`. */
export function mutate(input: Uint8Array, rng: Rng, maxRounds = 4): Uint8Array<ArrayBuffer> {
  let data: Uint8Array<ArrayBuffer> = Uint8Array.from(input);
  const rounds = rng.range(1, maxRounds);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(data.length + 1);
    switch (rng.int(6)) {
      case 0: // flip a bit
        if (data.length > 0) data[Math.min(at, data.length - 1)] ^= 1 << rng.int(8);
        break;
      case 1: // overwrite a byte
        if (data.length > 0) data[Math.min(at, data.length - 1)] = byte(rng);
        break;
      case 2: { // insert a few bytes
        const inserted = Uint8Array.from({ length: rng.range(1, 8) }, () => byte(rng));
        data = concat([data.subarray(0, at), inserted, data.subarray(at)]);
        break;
      }
      case 3: // delete a range
        data = concat([data.subarray(0, at), data.subarray(Math.min(data.length, at + rng.range(1, 64)))]);
        break;
      case 4: { // duplicate a range in place
        const slice = data.slice(at, Math.min(data.length, at + rng.range(1, 256)));
        data = concat([data.subarray(0, at), slice, slice, data.subarray(at + slice.length)]);
        break;
      }
      case 5: // truncate
        data = data.slice(0, at);
        break;
    }
  }
  return data;
}

/** Splits `input` into 1..`maxParts` chunks at random boundaries (empty chunks included, sometimes). */
export function split(input: Uint8Array, rng: Rng, maxParts = 8): Uint8Array[] {
  const cuts = Array.from({ length: rng.int(maxParts) }, () => rng.int(input.length + 1)).sort((a, b) =>
    a - b
  );
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    parts.push(input.subarray(start, cut));
    start = cut;
  }
  return parts;
}

export { concat };
