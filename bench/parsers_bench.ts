/**
 * Response parser throughput and memory, per wire format, on a 10 MB SSE stream.
 *
 * Throughput is reported as a ratio to `JSON.parse` of the same events' data in the same run (the floor any
 * parser of these formats pays), so the number means the same on a fast or a slow machine. Memory is the
 * heap the parser retains while parsing (measured after forced GC in a child process with `--expose-gc`),
 * next to the content the result must keep (text and tool arguments): the gap is the parser's own overhead.
 *
 * Run: `deno run -A bench/parsers_bench.ts` (prints a markdown table). A bench runner can import
 * `runParsersBench()` for the same table as a string.
 * @module
 */
import { createResponseParser } from "../providers/response_parser.ts";
import type { ApiName } from "../providers/types.ts";

const TARGET_BYTES = 10 * 1024 * 1024;
const CHUNK_BYTES = 16 * 1024;
const ROUNDS = 5;

interface BenchCase {
  name: string;
  api: ApiName;
  /** Builds the stream: its bytes and each event's data (what JSON.parse alone would parse). */
  build(): { bytes: Uint8Array; data: string[] };
}

const encoder = new TextEncoder();
const WORDS =
  "the quick brown fox jumps over lazy dogs while naïve café owners count 🌍 tokens and 日本語 text".split(
    " ",
  );

function phrase(i: number, words: number): string {
  let out = "";
  for (let w = 0; w < words; w++) out += WORDS[(i * 7 + w * 3) % WORDS.length] + " ";
  return out;
}

/** Repeats `event(i)` until the stream reaches the target size; returns bytes and data strings. */
function stream(
  head: [string | null, unknown][],
  event: (i: number) => [string | null, unknown],
  tail: [string | null, unknown][],
  crlf = false,
) {
  const data: string[] = [];
  const parts: string[] = [];
  const nl = crlf ? "\r\n" : "\n";
  let size = 0;
  const add = ([name, value]: [string | null, unknown]) => {
    const json = typeof value === "string" ? value : JSON.stringify(value); // a string is sent raw: [DONE]
    if (typeof value !== "string") data.push(json);
    const text = `${name ? `event: ${name}${nl}` : ""}data: ${json}${nl}${nl}`;
    parts.push(text);
    size += text.length;
  };
  head.forEach(add);
  for (let i = 0; size < TARGET_BYTES; i++) add(event(i));
  tail.forEach(add);
  return { bytes: encoder.encode(parts.join("")), data };
}

const CASES: BenchCase[] = [
  {
    name: "Anthropic Messages (text + tool deltas)",
    api: "anthropic.messages",
    build: () =>
      stream(
        [["message_start", {
          type: "message_start",
          message: { id: "msg_b", model: "claude-sonnet-4-5", usage: { input_tokens: 9, output_tokens: 1 } },
        }]],
        (i) =>
          i % 4 === 3
            ? ["content_block_delta", {
              type: "content_block_delta",
              index: 1,
              delta: { type: "input_json_delta", partial_json: `"k${i}": "${phrase(i, 6)}",` },
            }]
            : ["content_block_delta", {
              type: "content_block_delta",
              index: 0,
              delta: { type: "text_delta", text: phrase(i, 4) },
            }],
        [["message_delta", {
          type: "message_delta",
          delta: { stop_reason: "end_turn" },
          usage: { output_tokens: 99 },
        }], ["message_stop", { type: "message_stop" }]],
      ),
  },
  {
    name: "OpenAI Responses (text deltas)",
    api: "openai.responses",
    build: () =>
      stream(
        [["response.created", { type: "response.created", response: { id: "resp_b", model: "gpt-5" } }]],
        (
          i,
        ) => ["response.output_text.delta", {
          type: "response.output_text.delta",
          sequence_number: i,
          item_id: "msg_b",
          output_index: 0,
          content_index: 0,
          delta: phrase(i, 3),
        }],
        [["response.completed", {
          type: "response.completed",
          response: { id: "resp_b", model: "gpt-5", usage: { input_tokens: 9, output_tokens: 99 } },
        }]],
      ),
  },
  {
    name: "OpenAI Chat Completions (chunks)",
    api: "openai.chat_completions",
    build: () =>
      stream(
        [],
        (
          i,
        ) => [null, {
          id: "chatcmpl-b",
          object: "chat.completion.chunk",
          created: 1,
          model: "gpt-4o",
          choices: [{ index: 0, delta: { content: phrase(i, 3) }, finish_reason: null }],
        }],
        [[null, {
          id: "chatcmpl-b",
          object: "chat.completion.chunk",
          model: "gpt-4o",
          choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
        }], [null, "[DONE]"]],
      ),
  },
  {
    name: "Gemini streamGenerateContent (CRLF)",
    api: "google.stream_generate",
    build: () =>
      stream(
        [],
        (
          i,
        ) => [null, {
          candidates: [{ content: { parts: [{ text: phrase(i, 8) }], role: "model" }, index: 0 }],
          usageMetadata: { promptTokenCount: 9, candidatesTokenCount: i },
          modelVersion: "gemini-2.5-flash",
        }],
        [[null, {
          candidates: [{ content: { parts: [{ text: "" }], role: "model" }, finishReason: "STOP", index: 0 }],
          usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 99 },
          modelVersion: "gemini-2.5-flash",
        }]],
        true,
      ),
  },
];

function chunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) out.push(bytes.subarray(at, at + CHUNK_BYTES));
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function parseAll(api: ApiName, pieces: Uint8Array[]): number {
  const parser = createResponseParser(api, "text/event-stream");
  for (const piece of pieces) parser.push(piece);
  const result = parser.finish();
  if (result.partial) {
    throw new Error(`Benchmark stream for ${api} parsed as partial: ${result.errors.join("; ")}`);
  }
  return result.text.length;
}

function jsonParseAll(data: string[]): number {
  let keys = 0;
  for (const text of data) keys += Object.keys(JSON.parse(text)).length;
  return keys;
}

interface Throughput {
  bytes: number;
  parserMs: number;
  jsonMs: number;
  contentChars: number;
}

function measureThroughput(benchCase: BenchCase): Throughput {
  const { bytes, data } = benchCase.build();
  const pieces = chunks(bytes);
  let contentChars = parseAll(benchCase.api, pieces); // warm-up
  jsonParseAll(data);
  const parser: number[] = [];
  const json: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let start = performance.now();
    jsonParseAll(data);
    json.push(performance.now() - start);
    start = performance.now();
    contentChars = parseAll(benchCase.api, pieces);
    parser.push(performance.now() - start);
  }
  return { bytes: bytes.length, parserMs: median(parser), jsonMs: median(json), contentChars };
}

/** Run in a child with --expose-gc: the heap the parser retains, sampled after GC at each tenth of the stream. */
function measureRetained(index: number): { peakBytes: number; contentChars: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("Memory measurement needs --v8-flags=--expose-gc");
  const benchCase = CASES[index];
  const pieces = chunks(benchCase.build().bytes);
  gc();
  const base = Deno.memoryUsage().heapUsed;
  const parser = createResponseParser(benchCase.api, "text/event-stream");
  let peak = 0;
  const every = Math.max(1, Math.floor(pieces.length / 10));
  pieces.forEach((piece, i) => {
    parser.push(piece);
    if (i % every === every - 1) {
      gc();
      peak = Math.max(peak, Deno.memoryUsage().heapUsed - base);
    }
  });
  const result = parser.finish();
  const contentChars = result.text.length +
    result.toolCalls.reduce((n, call) => n + call.arguments.length, 0);
  return { peakBytes: peak, contentChars };
}

async function retainedInChild(index: number): Promise<{ peakBytes: number; contentChars: number } | null> {
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--v8-flags=--expose-gc",
        "-A",
        new URL(import.meta.url).pathname,
        "--memory-child",
        String(index),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) return null;
    return JSON.parse(new TextDecoder().decode(output.stdout));
  } catch {
    return null;
  }
}

const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);

/** Runs every case and returns the results as a markdown table. */
export async function runParsersBench(): Promise<string> {
  const rows = [
    "| stream (10 MB SSE, 16 KB chunks) | parser MB/s | JSON.parse MB/s | time ratio parser / JSON.parse | heap retained while parsing (peak, after GC) | content kept by the result |",
    "|---|---|---|---|---|---|",
  ];
  for (const [index, benchCase] of CASES.entries()) {
    const t = measureThroughput(benchCase);
    const memory = await retainedInChild(index);
    const seconds = (ms: number) => ms / 1000;
    rows.push(
      `| ${benchCase.name} | ${(t.bytes / 1048576 / seconds(t.parserMs)).toFixed(0)} | ${
        (t.bytes / 1048576 / seconds(t.jsonMs)).toFixed(0)
      } | ${(t.parserMs / t.jsonMs).toFixed(2)}× | ${memory ? `${mb(memory.peakBytes)} MB` : "n/a"} | ${
        memory ? `${mb(memory.contentChars)} M chars` : "n/a"
      } |`,
    );
  }
  rows.push(
    "",
    `Median of ${ROUNDS} rounds after a warm-up; JSON.parse parses the same events' data strings, already split and decoded. Deno ${Deno.version.deno}, V8 ${Deno.version.v8}.`,
  );
  return rows.join("\n");
}

if (import.meta.main) {
  const child = Deno.args.indexOf("--memory-child");
  if (child >= 0) console.log(JSON.stringify(measureRetained(Number(Deno.args[child + 1]))));
  else console.log(await runParsersBench());
}
