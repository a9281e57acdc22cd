/**
 * A capture record: one finished exchange as the journal keeps it and the store writer consumes it. It is
 * built from the live `Exchange` with every credential already removed (headers, `?key=`), the API key
 * reduced to its keyed hash, and the bodies as byte arrays. WebSocket traffic becomes two JSON-lines
 * transcripts (client and server messages) that stand in for the request and response bodies.
 * @module
 */
import { Buffer } from "node:buffer";
import type { Exchange, WsMessage } from "../core/exchange.ts";
import type { CaptureParsed } from "./sink.ts";
import { apiKeyOf, hashApiKey, stripCredentialHeaders, stripCredentialQuery } from "./credentials.ts";

/** The exchange as stored: no request body (it travels as bytes), no messages, no credentials. */
export type StoredExchange = Omit<Exchange, "requestBody" | "wsMessages">;

/** What the journal holds for one exchange. */
export interface CaptureRecord {
  exchange: StoredExchange;
  parsed: CaptureParsed | null;
  /** HMAC of the provider API key the request carried, or `null`. */
  apiKeyHash: string | null;
  requestBody: Uint8Array;
  responseBody: Uint8Array;
  capturedAt: number;
}

/** Options of `buildRecord`. */
export interface BuildRecordOptions {
  /** When it was captured (epoch ms); now by default. */
  now?: number;
  /**
   * The exchange is this thread's own copy (the capture worker received it in a message), so the record
   * may share its nested objects instead of cloning them: nothing else will change them.
   */
  owned?: boolean;
}

/**
 * Builds a record; the only place where credentials are removed, so nothing downstream sees them. A live
 * exchange is cloned: the proxy's objects must not change under the journal's encoding or the writer.
 */
export function buildRecord(
  exchange: StoredExchange & Partial<Pick<Exchange, "requestBody" | "wsMessages">>,
  parsed: CaptureParsed | null,
  bodies: { request: Uint8Array; response: Uint8Array },
  hmacKey: Uint8Array,
  options: BuildRecordOptions = {},
): CaptureRecord {
  const { requestBody: _body, wsMessages: _messages, ...rest } = exchange;
  const { path, key: queryKey } = stripCredentialQuery(exchange.request.path);
  const apiKey = apiKeyOf(exchange.request.headers, queryKey);
  const stripped: StoredExchange = {
    ...rest,
    request: { ...exchange.request, path, headers: stripCredentialHeaders(exchange.request.headers) },
    response: exchange.response
      ? { ...exchange.response, headers: stripCredentialHeaders(exchange.response.headers) }
      : null,
  };
  return {
    exchange: options.owned ? stripped : structuredClone(stripped),
    parsed,
    apiKeyHash: apiKey ? hashApiKey(hmacKey, apiKey) : null,
    requestBody: bodies.request,
    responseBody: bodies.response,
    capturedAt: options.now ?? Date.now(),
  };
}

/** Joins chunks into one array (no copy for a single chunk). */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** An exchange that ended on the proxy's thread, as posted to the capture worker: its bodies whole. */
export interface EndedExchange {
  exchange: StoredExchange;
  parsed: CaptureParsed | null;
  request: Uint8Array;
  response: Uint8Array;
  messages: WsMessage[];
}

/** The record of an `EndedExchange`: a WebSocket's bodies are its transcripts, any other's as posted. */
export function recordOfEnded(
  ended: EndedExchange,
  hmacKey: Uint8Array,
  options: BuildRecordOptions = {},
): CaptureRecord {
  const bodies = ended.exchange.kind === "websocket"
    ? { request: wsTranscript(ended.messages, "client"), response: wsTranscript(ended.messages, "server") }
    : { request: ended.request, response: ended.response };
  return buildRecord(ended.exchange, ended.parsed, bodies, hmacKey, options);
}

/** WebSocket messages from one side as JSON lines: `{"at":…,"text":…}` or `{"at":…,"base64":…}`. */
export function wsTranscript(messages: readonly WsMessage[], from: WsMessage["from"]): Uint8Array {
  let text = "";
  for (const m of messages) {
    if (m.from !== from) continue;
    const line = typeof m.data === "string"
      ? { at: m.at, text: m.data }
      : { at: m.at, base64: Buffer.from(m.data).toString("base64") };
    text += JSON.stringify(line) + "\n";
  }
  return new TextEncoder().encode(text);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Serialises a record: `[u32 head length][head JSON][request bytes][response bytes]`, all lengths
 * little-endian. The head carries the body lengths.
 */
export function encodeRecord(record: CaptureRecord): Uint8Array {
  const head = encoder.encode(JSON.stringify({
    v: 1,
    exchange: record.exchange,
    parsed: record.parsed,
    apiKeyHash: record.apiKeyHash,
    capturedAt: record.capturedAt,
    requestBytes: record.requestBody.length,
    responseBytes: record.responseBody.length,
  }));
  const out = new Uint8Array(4 + head.length + record.requestBody.length + record.responseBody.length);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  out.set(record.requestBody, 4 + head.length);
  out.set(record.responseBody, 4 + head.length + record.requestBody.length);
  return out;
}

/** Reverses `encodeRecord`; throws on a payload that does not add up. */
export function decodeRecord(bytes: Uint8Array): CaptureRecord {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLength = view.getUint32(0, true);
  const head = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headLength))) as {
    v: number;
    exchange: StoredExchange;
    parsed: CaptureParsed | null;
    apiKeyHash: string | null;
    capturedAt: number;
    requestBytes: number;
    responseBytes: number;
  };
  if (head.v !== 1) throw new Error(`Unknown capture record version ${head.v}`);
  const start = 4 + headLength;
  if (start + head.requestBytes + head.responseBytes !== bytes.length) {
    throw new Error(
      `Capture record of exchange ${head.exchange.id} has ${bytes.length} bytes, head says otherwise`,
    );
  }
  return {
    exchange: head.exchange,
    parsed: head.parsed,
    apiKeyHash: head.apiKeyHash,
    capturedAt: head.capturedAt,
    requestBody: bytes.slice(start, start + head.requestBytes),
    responseBody: bytes.slice(start + head.requestBytes),
  };
}
