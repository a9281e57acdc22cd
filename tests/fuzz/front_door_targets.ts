/**
 * Fuzz targets for the front door and everything behind it, over loopback against an in-process gateway
 * whose intercepted hosts all point at a local upstream and which refuses every other host (so no input
 * can make it connect anywhere else):
 * - `http1`: request heads straight to the front door (methods, targets, versions, headers, bodies,
 *   a second request pipelined behind the first, which the inner server parses alone);
 * - `connect`: CONNECT targets and headers, bytes pipelined after CONNECT, garbage TLS records after the 200;
 * - `tls`: h1 requests inside an intercepted TLS tunnel (the exchange path);
 * - `h2`: random and mutated frames after a valid preface on an ALPN `h2` tunnel.
 * Properties per iteration: no 500/503 from the gateway, no 502/504 (the upstream never fails here), no
 * error logged by the gateway. After each batch: open connections, pipe registry and in-flight counts
 * back to baseline, and a valid request still served.
 * @module
 */
import { Buffer } from "node:buffer";
import { DEFAULT_INTERCEPT_HOSTS } from "../../config/schema.ts";
import { startTestGateway, startUpstream, type TestGateway } from "../support/gateway.ts";
import type { FuzzTarget, IterationResult, TargetRun } from "./engine.ts";
import { mutate } from "./mutate.ts";
import type { Rng } from "./rng.ts";
import { generateConnect, generateH2, generateRequest, generateTlsGarbage } from "./http_inputs.ts";
import {
  collect,
  connect,
  exchange,
  h1Complete,
  h1Statuses,
  h2Frames,
  h2Status,
  PREFACE,
  tunnel,
  writeParts,
} from "./wire.ts";
import { split } from "./mutate.ts";

/** Gateway error logs seen while a target runs (the logger writes them to stderr via `console.error`). */
const errorLogs: string[] = [];

function hookErrorLogs(): () => void {
  const original = console.error;
  console.error = (...args: unknown[]) => {
    const line = args.map(String).join(" ");
    if (line.includes('"level":"error"')) errorLogs.push(line.slice(0, 400));
    else original(...args);
  };
  return () => {
    console.error = original;
  };
}

/** Statuses Recondo itself must not answer bad input with (the local upstream never fails). */
function statusProblems(statuses: number[]): string[] {
  return statuses.filter((s) => s >= 500).map((s) => `gateway answered ${s}`);
}

interface FuzzGateway {
  gw: TestGateway;
  close(): Promise<void>;
  /** Leak and liveness checks, run after each batch. */
  afterBatch(): Promise<string[]>;
}

const HEADER_TIMEOUT_MS = 300;

export async function startFuzzGateway(): Promise<FuzzGateway> {
  const upstream = startUpstream(async (req) => {
    await req.body?.cancel().catch(() => {});
    return new Response("upstream-ok");
  });
  const overrides = Object.fromEntries(DEFAULT_INTERCEPT_HOSTS.map((h) => [h, upstream.origin]));
  const gw = await startTestGateway({
    overrides,
    config: {
      otherHosts: "refuse",
      limits: { headerTimeoutMs: HEADER_TIMEOUT_MS, maxHeaderBytes: 16 * 1024 },
    },
  });
  const unhook = hookErrorLogs();
  const baseline = await gauges(gw.port);
  return {
    gw,
    async close() {
      unhook();
      await gw.close();
      await upstream.close();
    },
    async afterBatch() {
      const problems = errorLogs.splice(0).map((line) => `gateway logged an error: ${line}`);
      // Connections the gateway is still closing (a client flush, a handshake timer) settle within a few
      // header timeouts; anything left after that has leaked.
      let now = await gauges(gw.port);
      for (let i = 0; i < 40 && !sameGauges(now, baseline); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        now = await gauges(gw.port);
      }
      if (!sameGauges(now, baseline)) {
        problems.push(`leak: gauges ${JSON.stringify(now)} did not return to ${JSON.stringify(baseline)}`);
      }
      // A client of its own, closed after: a pooled keep-alive connection would count as open next time.
      const client = Deno.createHttpClient({ caCerts: [gw.caPem], proxy: { url: gw.proxyUrl } });
      try {
        const res = await fetch("https://api.openai.com/v1/models", { client });
        const text = await res.text();
        if (text !== "upstream-ok") {
          problems.push(`a valid request after the batch got ${res.status} ${text}`);
        }
      } catch (error) {
        problems.push(`a valid request after the batch failed: ${error}`);
      } finally {
        client.close();
      }
      return problems;
    },
  };
}

type Gauges = Record<"open" | "registry" | "inflight", number>;

/** Reads the gauges from `/metrics` through the front door (the scrape's own connection counts in both). */
export async function gauges(port: number): Promise<Gauges> {
  const socket = await connect(port);
  const got = collect(socket, { deadlineMs: 2000 });
  socket.write("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  const text = (await got).bytes.toString("utf8");
  socket.destroy();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  return {
    open: read("recondo_open_connections"),
    registry: read("recondo_pipe_registry_size"),
    inflight: read("recondo_inflight_exchanges"),
  };
}

function sameGauges(a: Gauges, b: Gauges): boolean {
  return a.open === b.open && a.registry === b.registry && a.inflight === b.inflight;
}

function gatewayTarget(
  name: string,
  description: string,
  iterate: (fz: FuzzGateway, rng: Rng) => Promise<IterationResult>,
): FuzzTarget {
  return {
    name,
    description,
    async start(): Promise<TargetRun> {
      const fz = await startFuzzGateway();
      return {
        concurrency: 12,
        batchSize: 150,
        iterate: (rng) => iterate(fz, rng),
        afterBatch: () => fz.afterBatch(),
        close: () => fz.close(),
      };
    },
  };
}

const DEADLINE_MS = HEADER_TIMEOUT_MS * 3;

const http1 = gatewayTarget(
  "http1",
  "request heads, headers and pipelined requests to the front door",
  async (fz, rng) => {
    let input = generateRequest(rng, { host: null });
    if (rng.chance(0.3)) input = Buffer.concat([input, generateRequest(rng, { host: null })]);
    if (rng.chance(0.25)) input = Buffer.from(mutate(input, rng));
    const socket = await connect(fz.gw.port);
    try {
      const got = await exchange(socket, input, rng, { deadlineMs: DEADLINE_MS, complete: h1Complete });
      return { input, problems: statusProblems(h1Statuses(got.bytes)) };
    } finally {
      socket.destroy();
    }
  },
);

const connectTarget = gatewayTarget(
  "connect",
  "CONNECT targets and headers, bytes pipelined after CONNECT, garbage TLS records after the 200",
  async (fz, rng) => {
    const head = generateConnect(rng);
    const after = rng.chance(0.7) ? generateTlsGarbage(rng) : new Uint8Array();
    const pipelined = rng.chance(0.3);
    const socket = await connect(fz.gw.port);
    try {
      const first = pipelined ? Buffer.concat([head, after]) : head;
      const got = await exchange(socket, first, rng, {
        deadlineMs: DEADLINE_MS,
        complete: (b) => b.includes("\r\n\r\n"),
      });
      let bytes = got.bytes;
      if (!pipelined && after.length > 0 && got.ended !== "closed" && !socket.destroyed) {
        const rest = await exchange(socket, after, rng, { deadlineMs: DEADLINE_MS });
        bytes = Buffer.concat([bytes, rest.bytes]);
      }
      // Only the proxy's own status lines: what follows a 200 is TLS.
      const statuses = h1Statuses(bytes.subarray(0, bytes.indexOf("\r\n\r\n") + 4));
      return { input: Buffer.concat([head, after]), problems: statusProblems(statuses) };
    } finally {
      socket.destroy();
    }
  },
);

const INTERCEPTED = ["api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com"];

const tlsTarget = gatewayTarget("tls", "h1 requests inside an intercepted TLS tunnel", async (fz, rng) => {
  const host = rng.pick(INTERCEPTED);
  let input = generateRequest(rng, { host });
  if (rng.chance(0.3)) input = Buffer.concat([input, generateRequest(rng, { host })]);
  if (rng.chance(0.25)) input = Buffer.from(mutate(input, rng));
  const secure = await tunnel(fz.gw.port, { host, ca: fz.gw.caPem, alpn: ["http/1.1"], deadlineMs: 2000 });
  if (!secure) return { input, problems: ["could not open an intercepted TLS tunnel"] };
  try {
    const got = await exchange(secure, input, rng, { deadlineMs: DEADLINE_MS, complete: h1Complete });
    return { input, problems: statusProblems(h1Statuses(got.bytes)) };
  } finally {
    secure.destroy();
  }
});

const h2 = gatewayTarget(
  "h2",
  "random and mutated h2 frames after a valid preface (ALPN h2)",
  async (fz, rng) => {
    const host = rng.pick(INTERCEPTED);
    const frames = generateH2(rng, host);
    const secure = await tunnel(fz.gw.port, { host, ca: fz.gw.caPem, alpn: ["h2"], deadlineMs: 2000 });
    if (!secure) return { input: frames, problems: ["could not open an intercepted h2 tunnel"] };
    try {
      if (secure.alpnProtocol !== "h2") {
        return {
          input: frames,
          problems: [`ALPN gave ${secure.alpnProtocol}`],
        };
      }
      const got = collect(secure, { deadlineMs: DEADLINE_MS / 2 });
      await writeParts(secure, [PREFACE, ...split(frames, rng, 4)], rng);
      const received = await got;
      const statuses = h2Frames(received.bytes)
        .filter((f) => f.type === 0x1)
        .map((f) => h2Status(headerBlock(f)))
        .filter((s): s is number => s !== null);
      return { input: frames, problems: statusProblems(statuses) };
    } finally {
      secure.destroy();
    }
  },
);

/** The header block of a HEADERS frame, without padding and priority fields. */
function headerBlock(f: { flags: number; payload: Buffer }): Buffer {
  let start = 0, end = f.payload.length;
  if (f.flags & 0x8) {
    start = 1;
    end -= f.payload[0] ?? 0;
  }
  if (f.flags & 0x20) start += 5;
  return f.payload.subarray(start, Math.max(start, end));
}

export const FRONT_DOOR_TARGETS: FuzzTarget[] = [http1, connectTarget, tlsTarget, h2];
