/**
 * Strict durability without a gap, on the real gateway process: a client takes a response's final event
 * (`message_stop`, `[DONE]`, `response.completed`, Gemini's `finishReason` chunk, Bedrock's `message_stop`
 * chunk and ConverseStream `metadata` frame, the last byte of a JSON body, the WebSocket `response.completed`) as its answer, so that event must not reach it before the record
 * is durable. Streams in every provider format run through `main.ts serve` (strict), which is killed with
 * SIGKILL at a random moment; the restart on the same data dir replays the journal; every exchange whose
 * final event the client received must then be a turn, exactly once. Several runs, each restart serving the
 * next run.
 *
 * How the gap is made wide enough to hit: while streams run, this process holds SQLite's write lock on the
 * gateway's database for 500 ms at a time (BEGIN IMMEDIATE on its own connection, as a backup or an
 * operator's `sqlite3` shell may), with 150 ms gaps. Meanwhile the capture worker waits for the lock, so no
 * record reaches the database and none is fsync'd to the journal either (the worker's thread waits in
 * SQLite's busy handler): a record stays crash-unsafe for up to half a second after its stream ended.
 * Without the final-event hold, clients received the final events of those records, and a kill in that
 * time lost them (measured before the fix: see the commit message). Product code has no test hook here.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { type GatewayProcess, startGatewayProcess } from "./agents/gateway_process.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { seededRandom } from "../providers/_testing.ts";
import { EventStreamDecoder, type EventStreamMessage } from "../providers/bedrock_event_stream.ts";

const RUNS = 8;
const STREAMS_PER_RUN = 26;
const LOCK_HOLD_MS = 500;
const LOCK_GAP_MS = 150;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One way to ask for an answer; `final` tells whether the bytes received so far hold the final event. */
interface Format {
  name: string;
  url: string;
  body(prompt: string): unknown;
  final(text: string, bytes: Uint8Array): boolean;
}

const BEDROCK =
  "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
/** Whole AWS event-stream messages among the bytes received so far. */
const framesOf = (bytes: Uint8Array): EventStreamMessage[] => new EventStreamDecoder().push(bytes).messages;
/** The Anthropic event type inside an InvokeModelWithResponseStream chunk. */
const chunkType = (message: EventStreamMessage): unknown => {
  const payload = JSON.parse(new TextDecoder().decode(message.payload));
  return JSON.parse(atob(payload.bytes)).type;
};

const GEMINI = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash";
const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const HTTP_FORMATS: Format[] = [
  {
    name: "anthropic sse",
    url: "https://api.anthropic.com/v1/messages",
    body: (prompt) => ({
      model: "claude-sonnet-4-5",
      stream: true,
      max_tokens: 64,
      messages: [{ role: "user", content: prompt }],
    }),
    final: (text) => /event: message_stop\ndata: [^\n]*\n\n/.test(text),
  },
  {
    name: "chat sse",
    url: "https://api.openai.com/v1/chat/completions",
    body: (prompt) => ({ model: "gpt-4o", stream: true, messages: [{ role: "user", content: prompt }] }),
    final: (text) => text.includes("data: [DONE]\n\n"),
  },
  {
    name: "responses sse",
    url: "https://api.openai.com/v1/responses",
    body: (prompt) => ({ model: "gpt-5", stream: true, input: prompt }),
    final: (text) => /event: response\.completed\ndata: [^\n]*\n\n/.test(text),
  },
  {
    name: "gemini sse",
    url: `${GEMINI}:streamGenerateContent?alt=sse`,
    body: (prompt) => ({ contents: [{ role: "user", parts: [{ text: prompt }] }] }),
    final: (text) => /data: [^\r\n]*"finishReason"[^\r\n]*\r\n\r\n/.test(text),
  },
  {
    name: "gemini json array",
    url: `${GEMINI}:streamGenerateContent`,
    body: (prompt) => ({ contents: [{ role: "user", parts: [{ text: prompt }] }] }),
    final: isJson,
  },
  {
    name: "anthropic json",
    url: "https://api.anthropic.com/v1/messages",
    body: (prompt) => ({
      model: "claude-sonnet-4-5",
      max_tokens: 64,
      messages: [{ role: "user", content: prompt }],
    }),
    final: isJson,
  },
  {
    name: "bedrock invoke event stream",
    url: `${BEDROCK}/invoke-with-response-stream`,
    body: (prompt) => ({
      anthropic_version: "bedrock-2023-05-31",
      max_tokens: 64,
      messages: [{ role: "user", content: prompt }],
    }),
    final: (_text, bytes) => framesOf(bytes).some((m) => chunkType(m) === "message_stop"),
  },
  {
    name: "bedrock converse event stream",
    url: `${BEDROCK}/converse-stream`,
    body: (prompt) => ({ messages: [{ role: "user", content: [{ text: prompt }] }] }),
    final: (_text, bytes) => framesOf(bytes).some((m) => m.headers[":event-type"] === "metadata"),
  },
];

/** Streams one answer; calls `onFinal` the moment the received bytes hold the final event. */
async function httpAnswer(client: Deno.HttpClient, format: Format, prompt: string, onFinal: () => void) {
  const res = await fetch(format.url, {
    method: "POST",
    client,
    headers: {
      "content-type": "application/json",
      "x-api-key": "sk-ant-api03-strict",
      "x-goog-api-key": "g",
    },
    body: JSON.stringify(format.body(prompt)),
  });
  if (!res.ok || !res.body) throw new Error(`${format.name}: status ${res.status}`);
  const decoder = new TextDecoder();
  let text = "";
  let bytes = new Uint8Array(0);
  let seen = false;
  await res.body.pipeTo(
    new WritableStream({
      write(chunk) {
        text += decoder.decode(chunk, { stream: true });
        bytes = new Uint8Array([...bytes, ...chunk]);
        if (!seen && format.final(text, bytes)) {
          seen = true;
          onFinal();
        }
      },
    }),
  );
}

/** One Responses turn over a WebSocket; `onFinal` on `response.completed`. */
async function wsAnswer(client: Deno.HttpClient, prompt: string, onFinal: () => void) {
  const ws = new WebSocket("wss://api.openai.com/v1/responses", { client } as unknown as string[]);
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
      ws.onclose = reject;
    });
    const done = new Promise<void>((resolve) => {
      ws.onmessage = (event) => {
        if (JSON.parse(String(event.data)).type !== "response.completed") return;
        onFinal();
        resolve();
      };
      ws.onclose = () => resolve();
      ws.onerror = () => resolve();
    });
    ws.send(JSON.stringify({
      type: "response.create",
      model: "gpt-5",
      input: [{ role: "user", content: [{ type: "input_text", text: prompt }] }],
    }));
    await done;
  } finally {
    if (ws.readyState === WebSocket.OPEN) ws.close();
  }
}

/** Holds the database's write lock in turns (see the module doc) until stopped. */
function holdWriteLockInTurns(path: string): { stop(): Promise<void> } {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 0"); // never block this process's event loop: retry after a timer
  let stopped = false;
  let holding = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        db.exec("BEGIN IMMEDIATE");
        holding = true;
      } catch {
        await sleep(5);
        continue;
      }
      await sleep(LOCK_HOLD_MS);
      db.exec("ROLLBACK");
      holding = false;
      await sleep(LOCK_GAP_MS);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      if (holding) db.exec("ROLLBACK");
      db.close();
    },
  };
}

function turnCounts(dataDir: string): Map<string, number> {
  const db = new DatabaseSync(join(dataDir, "recondo.db"), { readOnly: true });
  try {
    const counts = new Map<string, number>();
    for (const row of db.prepare("SELECT prompt FROM turns WHERE prompt LIKE 'strict run %'").all()) {
      counts.set(String(row.prompt), (counts.get(String(row.prompt)) ?? 0) + 1);
    }
    return counts;
  } finally {
    db.close();
  }
}

Deno.test({
  name: "strict: no exchange whose final event reached the client is lost when serve is killed with SIGKILL",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const random = seededRandom(20270115);
    const fake = await startFakeProvider({
      record: false,
      behavior: { answer: ["one ", "two ", "three ", "four ", "five"], eventDelayMs: 15 },
    });
    const configDir = await Deno.makeTempDir();
    const configFile = join(configDir, "recondo.json");
    await Deno.writeTextFile(configFile, JSON.stringify({ capture: { durability: "strict" } }));
    const overrides = {
      "api.anthropic.com": fake.url,
      "api.openai.com": fake.url,
      "generativelanguage.googleapis.com": fake.url,
      "bedrock-runtime.us-east-1.amazonaws.com": fake.url,
    };
    let gateway: GatewayProcess = await startGatewayProcess({ overrides, configFile });
    const dataDir = gateway.dataDir;
    const report: string[] = [];
    const lost: string[] = [];
    const seenByFormat = new Map<string, number>();
    try {
      const ca = await Deno.readTextFile(gateway.caFile);
      for (let run = 0; run < RUNS; run++) {
        const lock = holdWriteLockInTurns(join(dataDir, "recondo.db"));
        const client = Deno.createHttpClient({ caCerts: [ca], proxy: { url: gateway.proxyUrl } });
        const killAt = 500 + Math.floor(random() * 1000);
        const seen: string[] = [];
        const streams = Array.from({ length: STREAMS_PER_RUN }, async (_, i) => {
          await sleep(Math.floor(random() * (killAt - 100)));
          const format = HTTP_FORMATS[i % (HTTP_FORMATS.length + 1)] ?? null;
          const prompt = `strict run ${run} stream ${i} (${format?.name ?? "responses websocket"})`;
          const onFinal = () => void seen.push(prompt);
          // The kill breaks the streams still running: expected, and handled at once (not after the kill).
          if (format) await httpAnswer(client, format, prompt, onFinal).catch(() => {});
          else await wsAnswer(client, prompt, onFinal).catch(() => {});
        });
        await sleep(killAt);
        await gateway.crash();
        await Promise.all(streams);
        client.close();
        await lock.stop();

        // The restart replays the journal into the database before it answers /healthz.
        gateway = await startGatewayProcess({ overrides, configFile, dataDir });
        const counts = turnCounts(dataDir);
        const missing = seen.filter((prompt) => !counts.has(prompt));
        const doubled = [...counts].filter(([, n]) => n > 1);
        assert.deepEqual(doubled, [], "each exchange is recorded once");
        lost.push(...missing);
        for (const prompt of seen) {
          const format = prompt.slice(prompt.indexOf("(") + 1, -1);
          seenByFormat.set(format, (seenByFormat.get(format) ?? 0) + 1);
        }
        report.push(
          `run ${run}: kill at ${killAt} ms, ${seen.length} final events seen, ${missing.length} lost`,
        );
      }
      report.push(`final events seen: ${JSON.stringify(Object.fromEntries(seenByFormat))}`);
      console.log(report.join("\n"));
      assert.deepEqual(
        lost,
        [],
        `final event reached the client but the exchange is not recorded:\n${report.join("\n")}`,
      );
      // Held final events are released: every format still completes in some run.
      assert.equal(seenByFormat.size, HTTP_FORMATS.length + 1, report.join("\n"));
    } finally {
      await gateway.stop();
      await fake.close();
      await Deno.remove(configDir, { recursive: true });
    }
  },
});
