/**
 * Input generators for the front-door targets: HTTP/1 requests built from pieces that break parsers
 * (odd methods, absolute URLs with `[::1`, odd ports, userinfo, percent-encoding; duplicate, folded, huge,
 * NUL and non-ASCII headers; conflicting Content-Length and Transfer-Encoding), CONNECT heads, TLS-looking
 * garbage, and h2 frame sequences. Every host is either intercepted (served by the local upstream) or
 * refused by the fuzz gateway's config, so nothing generated here leaves the machine.
 * @module
 */
import { Buffer } from "node:buffer";
import type { Rng } from "./rng.ts";
import { mutate } from "./mutate.ts";
import { frame, literal } from "./wire.ts";

const METHODS = [
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "HEAD",
  "OPTIONS",
  "PATCH",
  "TRACE",
  "CONNECT",
  "PRI",
  "get",
  "G@T",
  "GÉT",
  "M-SEARCH",
  "QUERY",
  "",
];
const HOSTS = [
  "api.openai.com",
  "api.anthropic.com",
  "API.OPENAI.COM",
  "chatgpt.com",
  "generativelanguage.googleapis.com",
  "localhost",
  "127.0.0.1",
  "[::1]",
  "[::1",
  "::1]",
  "[::1]]",
  "[fe80::1%25eth0]",
  "[v1.x]",
  "%61pi.openai.com",
  "api.openai.com.",
  "",
  "a b",
  "exämple.com",
  "xn--",
  "[",
  "]",
  "999.1.1.1",
  "0x7f.1",
  "_",
  "api.openai.com\\",
  "api.openai.com#",
  "api.openai.com?",
  "*",
];
const PORTS = [
  "",
  ":",
  ":0",
  ":80",
  ":443",
  ":65535",
  ":65536",
  ":99999",
  ":-1",
  ":08",
  ":abc",
  ":1e3",
  ": 80",
];
const USERINFO = ["", "", "", "u@", "u:p@", "@", "%40@", "a@b@", "user:pa ss@", ":@"];
const PATHS = [
  "",
  "/",
  "/v1/models",
  "/v1/messages?beta=true",
  "/v1/chat/completions",
  "/v1/responses",
  "/%2e%2e/%2e%2e/",
  "/%",
  "/%zz",
  "/a b",
  "/é",
  "/\x00",
  "/?#",
  "//x",
  "/healthz",
  "/metrics",
  "/readyz",
  "#frag",
  "?q",
  `/${"a".repeat(3000)}`,
];
const SCHEMES = ["http", "https", "HTTP", "ws", "foo", "", "http:", "h\x00ttp"];
const VERSIONS = [
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.0",
  "HTTP/2.0",
  "HTTP/1.2",
  "HTTP/0.9",
  "http/1.1",
  "HTTP/1.1 x",
  "",
];

function target(rng: Rng): string {
  switch (rng.int(5)) {
    case 0:
    case 1: {
      const scheme = rng.pick(SCHEMES);
      return `${scheme}://${rng.pick(USERINFO)}${rng.pick(HOSTS)}${rng.pick(PORTS)}${rng.pick(PATHS)}`;
    }
    case 2:
      return rng.pick(PATHS) || "/";
    case 3:
      return `${rng.pick(HOSTS)}${rng.pick(PORTS)}`; // authority form outside CONNECT
    default:
      return rng.pick(["*", "/", "", "/v1/models", "http://[::1", "http://api.openai.com", "%2F"]);
  }
}

const HEADER_PIECES: ((rng: Rng) => string)[] = [
  (rng) => `Host: ${rng.pick(HOSTS)}${rng.pick(PORTS)}`,
  (rng) =>
    `Content-Length: ${
      rng.pick(["0", "5", "-1", "1, 1", "1,2", "99999999999999999999", "+5", " 5", "0x5", ""])
    }`,
  (rng) =>
    `Transfer-Encoding: ${
      rng.pick(["chunked", "chunked, gzip", "gzip", "xchunked", " chunked", "identity", ""])
    }`,
  (rng) => `Connection: ${rng.pick(["close", "keep-alive", "upgrade", "Upgrade, HTTP2-Settings", "te"])}`,
  (rng) => `Upgrade: ${rng.pick(["websocket", "h2c", "tls/1.0", "\x00"])}`,
  () => "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13",
  (rng) => `Proxy-Authorization: ${rng.pick(["Basic !!!", "Basic YQ==", "Basic", "Bearer x", "Basic dTpw"])}`,
  () => "X-Folded: a\r\n  b",
  () => "X-Nul: a\x00b",
  () => "X-Utf8: héllo ✓",
  (rng) => `X-Big: ${"b".repeat(rng.pick([100, 4000, 15000, 20000]))}`,
  () => "Host : api.openai.com",
  () => ": empty-name",
  () => "no-colon",
  () => "Expect: 100-continue",
  () => "Content-Type: application/json",
  () => "Accept-Encoding: gzip, br, zstd",
  (rng) => `X-Many: ${rng.int(1000)}`,
  () => "x-api-key: sk-ant-fuzz",
  () => "Authorization: Bearer sk-fuzz",
];

function body(rng: Rng): string {
  return rng.pick([
    "",
    "hello",
    '{"model":"gpt-4o","messages":[]}',
    "5\r\nhello\r\n0\r\n\r\n",
    "zz\r\nhello\r\n0\r\n\r\n",
    "5\r\nhel",
    "0\r\n\r\n",
    "ffffffffffffffff\r\n",
  ]);
}

/** One HTTP/1 request (sometimes with bare LF line ends). `host`: the Host header to send, or random. */
export function generateRequest(rng: Rng, options: { host: string | null }): Buffer {
  const nl = rng.chance(0.05) ? "\n" : "\r\n";
  const sp = rng.chance(0.05) ? rng.pick(["  ", "\t", ""]) : " ";
  const lines = [`${rng.pick(METHODS)}${sp}${target(rng)}${sp}${rng.pick(VERSIONS)}`];
  if (options.host !== null && rng.chance(0.8)) lines.push(`Host: ${options.host}`);
  for (let i = rng.int(5); i > 0; i--) lines.push(rng.pick(HEADER_PIECES)(rng));
  if (rng.chance(0.02)) { for (let i = 0; i < 300; i++) lines.push(`X-H${i}: v`); }
  return Buffer.from(`${lines.join(nl)}${nl}${nl}${body(rng)}`, "utf8");
}

const CONNECT_TARGETS = [
  "api.openai.com:443",
  "api.anthropic.com:443",
  "[::1]:443",
  "[::1:443",
  "api.openai.com",
  "api.openai.com:",
  "api.openai.com:0",
  ":443",
  "api.openai.com:443:1",
  "user@api.openai.com:443",
  "http://api.openai.com:443",
  "API.OPENAI.COM:443",
  "api.openai.com:0443",
  "%61pi.openai.com:443",
  "example.com:443",
  "127.0.0.1:22",
  "api.openai.com:99999",
  "api.openai.com:-1",
  "",
  "[]:443",
  "[zz::]:443",
  "a..b:443",
  "-a:443",
];

/** A CONNECT head (mostly to an intercepted host, so the TLS part behind it is reached). */
export function generateConnect(rng: Rng): Buffer {
  const target = rng.chance(0.5) ? "api.openai.com:443" : rng.pick(CONNECT_TARGETS);
  const lines = [`CONNECT ${target} ${rng.chance(0.9) ? "HTTP/1.1" : rng.pick(VERSIONS)}`];
  if (rng.chance(0.7)) lines.push(`Host: ${target}`);
  for (let i = rng.int(3); i > 0; i--) lines.push(rng.pick(HEADER_PIECES)(rng));
  let head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "utf8");
  if (rng.chance(0.15)) head = Buffer.from(mutate(head, rng, 2));
  return head;
}

/** Bytes a client might send after the 200: TLS-looking records with random contents, or plain junk. */
export function generateTlsGarbage(rng: Rng): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = rng.range(1, 3); i > 0; i--) {
    if (rng.chance(0.2)) {
      parts.push(rng.bytes(rng.int(64)));
      continue;
    }
    const type = rng.pick([0x16, 0x16, 0x17, 0x15, 0x14, 0x18, 0x00, 0xff]);
    const payload = rng.bytes(rng.pick([0, 1, 4, 40, 300]));
    if (type === 0x16 && payload.length > 4) payload[0] = rng.pick([1, 2, 11, 16, 20]);
    const length = rng.chance(0.8) ? payload.length : rng.int(0x10000);
    parts.push(Uint8Array.from([type, 3, rng.pick([1, 3, 4]), length >> 8, length & 0xff]), payload);
  }
  return Buffer.concat(parts);
}

const HEADERS = 0x1, DATA = 0x0, SETTINGS = 0x4, END_STREAM = 0x1, END_HEADERS = 0x4;

/** A request header block: mostly valid, with odd pseudo-headers and values mixed in. */
function headerBlock(rng: Rng, host: string): Buffer {
  const fields: [string, string][] = [
    [":method", rng.chance(0.8) ? rng.pick(["GET", "POST"]) : rng.pick(METHODS)],
    [":scheme", rng.chance(0.9) ? "https" : rng.pick(["http", "", "foo"])],
    [":authority", rng.chance(0.7) ? host : `${rng.pick(HOSTS)}${rng.pick(PORTS)}`],
    [":path", rng.chance(0.7) ? rng.pick(["/v1/models", "/v1/messages", "/v1/responses"]) : rng.pick(PATHS)],
  ];
  if (rng.chance(0.1)) fields.splice(rng.int(fields.length), 1);
  if (rng.chance(0.1)) fields.push([":status", "200"]);
  if (rng.chance(0.1)) fields.push([rng.pick(["connection", "Host", "te", "upgrade", "X-UPPER"]), "x"]);
  if (rng.chance(0.2)) fields.push(["host", `${rng.pick(HOSTS)}${rng.pick(PORTS)}`]);
  if (rng.chance(0.2)) fields.push(["content-length", rng.pick(["0", "5", "-1", "x"])]);
  if (rng.chance(0.1)) fields.push(["x-nul", "a\x00b"]);
  return Buffer.concat(fields.map(([n, v]) => literal(n, v)));
}

/** h2 frames to send after the preface: client SETTINGS, then requests and random or mutated frames. */
export function generateH2(rng: Rng, host: string): Buffer {
  const frames: Buffer[] = [frame(SETTINGS, 0, 0)];
  let stream = 1;
  for (let i = rng.range(1, 6); i > 0; i--) {
    switch (rng.int(7)) {
      case 0:
      case 1: { // a request, maybe with a body
        const withBody = rng.chance(0.3);
        frames.push(
          frame(HEADERS, END_HEADERS | (withBody ? 0 : END_STREAM), stream, headerBlock(rng, host)),
        );
        if (withBody) frames.push(frame(DATA, END_STREAM, stream, Buffer.from('{"model":"x"}')));
        stream += 2;
        break;
      }
      case 2: { // a request whose frame bytes are mutated
        const bytes = frame(HEADERS, END_HEADERS | END_STREAM, stream, headerBlock(rng, host));
        frames.push(Buffer.from(mutate(bytes, rng)));
        stream += 2;
        break;
      }
      case 3: // a random frame of any type on a random stream
        frames.push(
          frame(
            rng.int(12),
            rng.int(256),
            rng.pick([0, 1, stream, stream + 1, 0x7fffffff]),
            rng.bytes(rng.pick([0, 4, 5, 8, 20])),
          ),
        );
        break;
      case 4: // control frames with odd values
        frames.push(
          rng.pick([
            frame(0x8, 0, 0, Buffer.from([0, 0, 0, 0])), // WINDOW_UPDATE 0
            frame(0x8, 0, 1, Buffer.from([0x7f, 0xff, 0xff, 0xff])),
            frame(SETTINGS, 0, 0, Buffer.from([0, 4, 0xff, 0xff, 0xff, 0xff])), // huge initial window
            frame(SETTINGS, 0, 0, Buffer.from([0, 5, 0, 0, 0, 0])), // max frame size 0
            frame(SETTINGS, 1, 0, Buffer.from([0])), // ACK with payload
            frame(0x6, 0, 0, Buffer.alloc(8)), // PING
            frame(0x3, 0, 1, Buffer.from([0, 0, 0, 8])), // RST_STREAM
            frame(0x2, 0, 1, Buffer.from([0, 0, 0, 1, 16])), // PRIORITY on itself
            frame(0x9, END_HEADERS, stream, Buffer.from([0x82])), // CONTINUATION without HEADERS
            frame(0x7, 0, 0, Buffer.alloc(8)), // GOAWAY
          ]),
        );
        break;
      case 5: // HEADERS without END_HEADERS, then CONTINUATION (or not)
        frames.push(frame(HEADERS, END_STREAM, stream, headerBlock(rng, host)));
        if (rng.chance(0.6)) frames.push(frame(0x9, END_HEADERS, stream, literal("x-a", "b")));
        stream += 2;
        break;
      default: // raw junk
        frames.push(Buffer.from(rng.bytes(rng.range(1, 40))));
    }
  }
  return Buffer.concat(frames);
}
