/**
 * Reads and parses the first request head on a raw client connection, before we know whether it is a
 * CONNECT, an absolute-form proxy request or a request for Recondo's own endpoints. Bounded in size and
 * time so that slow or hostile clients cannot hold memory or a slot.
 * @module
 */
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";

export interface RequestHeadLine {
  method: string;
  target: string;
  version: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The head exactly as received, to replay to the inner server. */
  raw: Buffer;
}

export type HeadResult =
  | { ok: true; head: RequestHeadLine; rest: Buffer }
  | { ok: false; status: 400 | 408 | 431; reason: string }
  | { ok: false; status: 0; reason: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const END = Buffer.from("\r\n\r\n");

/** Parses a complete head (without the final blank line). Returns `null` when it is malformed. */
export function parseHead(raw: Buffer): Omit<RequestHeadLine, "raw"> | null {
  const lines = raw.toString("latin1").split("\r\n");
  const parts = lines[0].split(" ");
  if (parts.length !== 3 || !TOKEN.test(parts[0]) || !/^HTTP\/1\.[01]$/.test(parts[2]) || parts[1] === "") {
    return null;
  }
  // An absolute-form target the URL parser rejects (`http://[::1`, a port above 65535) is a client
  // error here, not a failure of the inner server later.
  if (parts[1].includes("://") && !URL.canParse(parts[1])) return null;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) return null;
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) return null;
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { method: parts[0], target: parts[1], version: parts[2], headers };
}

/** Waits for one request head on `socket`; the socket is paused when this resolves. */
export function readRequestHead(
  socket: Socket,
  limits: { maxHeaderBytes: number; headerTimeoutMs: number },
): Promise<HeadResult> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (result: HeadResult) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onEnd);
      socket.pause();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          status: 408,
          reason: `no complete request head within ${limits.headerTimeoutMs} ms`,
        }),
      limits.headerTimeoutMs,
    );
    const onEnd = () =>
      finish({ ok: false, status: 0, reason: "client closed before sending a request head" });
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(END);
      if (end < 0) {
        if (buffered.length > limits.maxHeaderBytes) {
          finish({
            ok: false,
            status: 431,
            reason: `request head larger than ${limits.maxHeaderBytes} bytes`,
          });
        }
        return;
      }
      if (end > limits.maxHeaderBytes) {
        return finish({
          ok: false,
          status: 431,
          reason: `request head larger than ${limits.maxHeaderBytes} bytes`,
        });
      }
      const raw = buffered.subarray(0, end + END.length);
      const parsed = parseHead(buffered.subarray(0, end));
      if (!parsed) return finish({ ok: false, status: 400, reason: "malformed request head" });
      finish({ ok: true, head: { ...parsed, raw }, rest: buffered.subarray(end + END.length) });
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onEnd);
  });
}

/** Splits `host:port` (with `[v6]:port`); `null` when malformed. */
export function parseAuthority(target: string, defaultPort: number): { host: string; port: number } | null {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(target);
  if (!match) return null;
  const port = match[2] ? Number(match[2]) : defaultPort;
  if (port < 1 || port > 65535) return null;
  return { host: match[1].toLowerCase().replace(/^\[|\]$/g, ""), port };
}
