/**
 * Client-side plumbing for the front-door fuzz targets: send bytes (split as a network would), read what
 * comes back until the gateway closes, goes quiet or a deadline passes, and find the statuses in it (h1
 * status lines; h2 `:status` where HPACK encodes it without the dynamic table).
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import type { Rng } from "./rng.ts";
import { split } from "./mutate.ts";

export interface Received {
  bytes: Buffer;
  /** How reading ended: the gateway closed, it went quiet after answering, or the deadline passed. */
  ended: "closed" | "quiet" | "deadline";
}

/** Writes `parts` one after another, sometimes yielding between them so they leave as separate segments. */
export async function writeParts(socket: net.Socket, parts: Uint8Array[], rng: Rng): Promise<void> {
  for (const part of parts) {
    if (socket.destroyed) return;
    if (part.length > 0) socket.write(part);
    if (rng.chance(0.3)) await new Promise((resolve) => setTimeout(resolve, rng.int(3)));
  }
}

/**
 * Collects what `socket` receives until it closes, until it has been quiet for `quietMs` after bytes that
 * `complete` accepts, or until `deadlineMs`.
 */
export function collect(
  socket: net.Socket,
  options: { deadlineMs: number; quietMs?: number; complete?: (bytes: Buffer) => boolean },
): Promise<Received> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const done = (ended: Received["ended"]) => {
      clearTimeout(deadline);
      clearTimeout(quiet);
      socket.off("data", onData);
      socket.off("close", onClose);
      resolve({ bytes: Buffer.concat(chunks), ended });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(quiet);
      const all = Buffer.concat(chunks);
      if (options.complete?.(all)) quiet = setTimeout(() => done("quiet"), options.quietMs ?? 30);
    };
    const onClose = () => done("closed");
    const deadline = setTimeout(() => done("deadline"), options.deadlineMs);
    socket.on("data", onData);
    socket.once("close", onClose);
    if (socket.destroyed) done("closed");
  });
}

/**
 * Every h1 status code in `bytes`, found by status lines anywhere (a pipelined response follows the
 * previous body directly; the bodies in these tests never contain one).
 */
export function h1Statuses(bytes: Buffer): number[] {
  const text = bytes.toString("latin1");
  return [...text.matchAll(/HTTP\/\d\.\d (\d{3})[ \r]/g)].map((m) => Number(m[1]));
}

/** Whether `bytes` hold at least one whole h1 response (head plus a body of its content-length). */
export function h1Complete(bytes: Buffer): boolean {
  const text = bytes.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
  if (length) return bytes.length >= end + 4 + Number(length[1]);
  return /\r\ntransfer-encoding: *chunked/i.test(text.slice(0, end)) ? text.endsWith("0\r\n\r\n") : true;
}

/** A plain TCP connection to the front door. */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Sends `CONNECT host:443`, waits for the 200, then completes TLS with `alpn`; null if any step fails. */
export async function tunnel(
  port: number,
  options: { host: string; ca: string; alpn: string[]; deadlineMs: number },
): Promise<tls.TLSSocket | null> {
  const socket = await connect(port);
  socket.write(`CONNECT ${options.host}:443 HTTP/1.1\r\nHost: ${options.host}:443\r\n\r\n`);
  const head = await collect(socket, {
    deadlineMs: options.deadlineMs,
    quietMs: 0,
    complete: (b) => b.includes("\r\n\r\n"),
  });
  if (!head.bytes.toString("latin1").startsWith("HTTP/1.1 200")) {
    socket.destroy();
    return null;
  }
  return await new Promise((resolve) => {
    const secure = tls.connect({
      socket,
      servername: options.host,
      ca: options.ca,
      ALPNProtocols: options.alpn,
    });
    const timer = setTimeout(() => {
      secure.destroy();
      resolve(null);
    }, options.deadlineMs);
    secure.once("secureConnect", () => {
      clearTimeout(timer);
      secure.off("error", fail);
      secure.on("error", () => {});
      resolve(secure);
    });
    const fail = () => {
      clearTimeout(timer);
      secure.destroy();
      resolve(null);
    };
    secure.once("error", fail);
  });
}

/** Sends `bytes` on `socket` split at random boundaries and collects the answer. */
export async function exchange(
  socket: net.Socket,
  bytes: Uint8Array,
  rng: Rng,
  options: { deadlineMs: number; complete?: (bytes: Buffer) => boolean },
): Promise<Received> {
  const received = collect(socket, options);
  await writeParts(socket, split(bytes, rng, 4), rng);
  return await received;
}

// ---- h2 ---------------------------------------------------------------------------------------------------

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array()) {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** A literal header field without indexing, with a new (not Huffman-coded) name. */
export function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, "latin1"), v = Buffer.from(value, "latin1");
  return Buffer.concat([Buffer.from([0x00]), int7(n.length), n, int7(v.length), v]);
}

function int7(value: number): Buffer {
  if (value < 127) return Buffer.from([value]);
  const out = [127];
  let rest = value - 127;
  while (rest >= 128) {
    out.push((rest & 0x7f) | 0x80);
    rest >>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}

/** Frames in `bytes` (whole ones only). */
export function h2Frames(
  bytes: Buffer,
): { type: number; flags: number; streamId: number; payload: Buffer }[] {
  const frames = [];
  let at = 0;
  while (at + 9 <= bytes.length) {
    const length = bytes.readUIntBE(at, 3);
    if (at + 9 + length > bytes.length) break;
    frames.push({
      type: bytes[at + 3],
      flags: bytes[at + 4],
      streamId: bytes.readUInt32BE(at + 5) & 0x7fffffff,
      payload: bytes.subarray(at + 9, at + 9 + length),
    });
    at += 9 + length;
  }
  return frames;
}

const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };
const HUFFMAN_DIGITS: [string, string][] = [
  ["00000", "0"],
  ["00001", "1"],
  ["00010", "2"],
  ["011001", "3"],
  ["011010", "4"],
  ["011011", "5"],
  ["011100", "6"],
  ["011101", "7"],
  ["011110", "8"],
  ["011111", "9"],
];

/**
 * The `:status` of a response HEADERS block when HPACK gives it without the dynamic table (static index,
 * or a literal with the static name and a plain or Huffman value); null otherwise. Servers send `:status`
 * first (RFC 9113 §8.3), after any table size update.
 */
export function h2Status(block: Buffer): number | null {
  let at = 0;
  while (at < block.length && (block[at] & 0xe0) === 0x20) at++; // dynamic table size updates (small)
  const first = block[at];
  if (first === undefined) return null;
  if (first & 0x80) return STATIC_STATUS[first & 0x7f] ?? null;
  const nameIndex = (first & 0x40) ? first & 0x3f : first & 0x0f;
  if (nameIndex < 8 || nameIndex > 14) return null;
  const lengthByte = block[at + 1];
  if (lengthByte === undefined) return null;
  const value = block.subarray(at + 2, at + 2 + (lengthByte & 0x7f));
  if (!(lengthByte & 0x80)) return Number(value.toString("latin1"));
  let bits = [...value].map((b) => b.toString(2).padStart(8, "0")).join("");
  let digits = "";
  while (digits.length < 3) {
    const hit = HUFFMAN_DIGITS.find(([code]) => bits.startsWith(code));
    if (!hit) return null;
    digits += hit[1];
    bits = bits.slice(hit[0].length);
  }
  return Number(digits);
}
