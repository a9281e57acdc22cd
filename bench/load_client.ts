/**
 * The benchmark's load generator, run as its own process (so its CPU is not the proxy's): Deno's fetch
 * (hyper + rustls, native code) with HTTP/1.1 only, one `Deno.HttpClient` per connection so "32
 * connections" means exactly 32 TCP connections, through an HTTP proxy with CONNECT or straight to the
 * upstream.
 *
 *   deno run -A bench/load_client.ts '<LoadSpec as JSON>'
 *
 * Prints one JSON line: the `LoadResult` for the spec's mode.
 * @module
 */

/** What one load-generator process does. */
export interface LoadSpec {
  mode: "latency" | "throughput" | "sse";
  /** `https://…/v1/messages`. */
  url: string;
  /** `http://127.0.0.1:PORT` of the proxy under test; absent for direct. */
  proxy?: string;
  /** PEM of the CA the client must trust (the upstream's for direct, the proxy's otherwise). */
  caPem: string;
  /** latency: sequential requests measured; sse: streams measured. */
  count?: number;
  /** Unmeasured requests (latency, sse) or per-connection requests (throughput) first. */
  warmup?: number;
  connections?: number;
  durationMs?: number;
}

export type LoadResult =
  | { mode: "latency"; ms: number[] }
  | {
    mode: "throughput";
    completed: number;
    errors: number;
    seconds: number;
    firstError: string | null;
    /** This process's CPU time (user + system) during the timed window. */
    cpuMs: number;
  }
  | { mode: "sse"; ttfbMs: number[]; eventDelayMs: number[]; eventsPerStream: number[] };

const REQUEST = JSON.stringify({
  model: "claude-sonnet-4-5-20250929",
  max_tokens: 1024,
  messages: [{ role: "user", content: "Summarize the benchmark method in one paragraph, please." }],
});
const STREAM_REQUEST = REQUEST.replace(/^\{/, '{"stream":true,');
const HEADERS = {
  "content-type": "application/json",
  "anthropic-version": "2023-06-01",
  "x-api-key": "sk-ant-bench-0000000000000000",
};

/** Wall-clock milliseconds with sub-millisecond precision, on the same scale as the upstream's `sent_at`. */
const now = () => performance.timeOrigin + performance.now();

function client(spec: LoadSpec): Deno.HttpClient {
  return Deno.createHttpClient({
    caCerts: [spec.caPem],
    proxy: spec.proxy ? { url: spec.proxy } : undefined,
    http1: true,
    http2: false,
  });
}

async function post(httpClient: Deno.HttpClient, url: string, body = REQUEST): Promise<void> {
  const response = await fetch(url, { method: "POST", headers: HEADERS, body, client: httpClient });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`POST ${url} answered ${response.status}`);
}

/** CPU time of this process (all threads) from /proc, in ms (USER_HZ is 100). */
function selfCpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function latency(spec: LoadSpec): Promise<LoadResult> {
  const httpClient = client(spec);
  for (let i = 0; i < (spec.warmup ?? 200); i++) await post(httpClient, spec.url);
  const ms: number[] = [];
  for (let i = 0; i < (spec.count ?? 1000); i++) {
    const start = performance.now();
    await post(httpClient, spec.url);
    ms.push(performance.now() - start);
  }
  httpClient.close();
  return { mode: "latency", ms };
}

async function throughput(spec: LoadSpec): Promise<LoadResult> {
  const clients = Array.from({ length: spec.connections ?? 32 }, () => client(spec));
  // Open every connection and warm both ends before the clock starts.
  await Promise.all(clients.map(async (c) => {
    for (let i = 0; i < (spec.warmup ?? 20); i++) await post(c, spec.url);
  }));
  let completed = 0;
  let errors = 0;
  let firstError: string | null = null;
  // Tells the runner the timed window starts now (it samples the other processes' CPU time).
  console.log(JSON.stringify({ measuring: true }));
  const cpuStart = selfCpuMs();
  const start = performance.now();
  const deadline = start + (spec.durationMs ?? 5000);
  await Promise.all(clients.map(async (c) => {
    while (performance.now() < deadline) {
      try {
        await post(c, spec.url);
        completed++;
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  const cpuMs = selfCpuMs() - cpuStart;
  for (const c of clients) c.close();
  return { mode: "throughput", completed, errors, seconds, firstError, cpuMs };
}

/** Reads one SSE stream; returns its time to first byte and each event's delay from `sent_at`. */
async function oneStream(httpClient: Deno.HttpClient, url: string) {
  const start = now();
  const response = await fetch(url, {
    method: "POST",
    headers: HEADERS,
    body: STREAM_REQUEST,
    client: httpClient,
  });
  if (response.status !== 200 || !response.body) throw new Error(`stream ${url} answered ${response.status}`);
  const decoder = new TextDecoder();
  const delays: number[] = [];
  let ttfb: number | null = null;
  let pending = "";
  for await (const chunk of response.body) {
    const received = now();
    ttfb ??= received - start;
    pending += decoder.decode(chunk, { stream: true });
    const events = pending.split("\n\n");
    pending = events.pop() ?? "";
    for (const event of events) {
      const sent = /^: sent_at=([\d.]+)$/m.exec(event);
      if (sent) delays.push(received - Number(sent[1]));
    }
  }
  return { ttfb: ttfb ?? Number.NaN, delays };
}

async function sse(spec: LoadSpec): Promise<LoadResult> {
  const httpClient = client(spec);
  for (let i = 0; i < (spec.warmup ?? 2); i++) await oneStream(httpClient, spec.url);
  const result = {
    mode: "sse" as const,
    ttfbMs: [] as number[],
    eventDelayMs: [] as number[],
    eventsPerStream: [] as number[],
  };
  for (let i = 0; i < (spec.count ?? 10); i++) {
    const { ttfb, delays } = await oneStream(httpClient, spec.url);
    result.ttfbMs.push(ttfb);
    result.eventDelayMs.push(...delays);
    result.eventsPerStream.push(delays.length);
  }
  httpClient.close();
  return result;
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0] ?? "null") as LoadSpec | null;
  if (!spec) throw new Error("load_client: pass the LoadSpec as one JSON argument");
  const run = { latency, throughput, sse }[spec.mode];
  if (!run) throw new Error(`load_client: unknown mode "${spec.mode}"`);
  console.log(JSON.stringify(await run(spec)));
}
