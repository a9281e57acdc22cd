/**
 * Test helpers for the provider parsers: fixture loading, the manifest of every response fixture (used by
 * the chunking property test), and feeding bytes in chosen chunkings.
 * @module
 */
import { createResponseParser, type ResponseParserOptions } from "./response_parser.ts";
import type { ApiName, ParsedResponse, StreamEvent, Usage } from "./types.ts";

const FIXTURES = new URL("../tests/fixtures/providers/", import.meta.url);
/** The real clients' recorded requests (scripts/record_fixtures.ts; see its README.md). */
export const CLIENT_FIXTURES = new URL("../tests/fixtures/clients/", import.meta.url);

/** Bytes of a response fixture, by path under tests/fixtures/providers/. */
export function fixtureBytes(path: string): Uint8Array {
  return Deno.readFileSync(new URL(path, FIXTURES));
}

/** Lines of a `.jsonl` fixture (one WebSocket message each). */
export function fixtureLines(path: string): string[] {
  return new TextDecoder().decode(fixtureBytes(path)).split("\n").filter((line) => line.trim().length > 0);
}

/** A recorded real-client exchange from tests/fixtures/clients/ (request body, headers, stand-in response). */
export interface ClientExchange {
  method: string;
  path: string;
  headers: [string, string][];
  body: unknown;
  response: { status: number; headers: Record<string, string>; body: string | null };
}

/**
 * Every recorded exchange file, as `<client>/<run>/NNN-….json` under {@link CLIENT_FIXTURES} (or, with
 * another `pattern`, every file of a run whose name matches it).
 */
export function clientExchangeFiles(pattern = /^\d{3}-.*\.json$/): string[] {
  const files: string[] = [];
  const dirs = (url: URL) =>
    [...Deno.readDirSync(url)].filter((e) => e.isDirectory).map((e) => e.name).sort();
  for (const client of dirs(CLIENT_FIXTURES)) {
    for (const run of dirs(new URL(`${client}/`, CLIENT_FIXTURES))) {
      for (const file of Deno.readDirSync(new URL(`${client}/${run}/`, CLIENT_FIXTURES))) {
        if (pattern.test(file.name)) files.push(`${client}/${run}/${file.name}`);
      }
    }
  }
  return files.sort();
}

/** Client WebSocket frames of a recorded run (`<client>/<run>/ws-messages.jsonl`), each as its JSON text. */
export function clientWsMessages(run: string): string[] {
  return Deno.readTextFileSync(new URL(`${run}/ws-messages.jsonl`, CLIENT_FIXTURES)).split("\n")
    .filter((line) => line.trim()).map((line) => JSON.stringify(JSON.parse(line).msg));
}

export function clientExchange(path: string): ClientExchange {
  return JSON.parse(Deno.readTextFileSync(new URL(path, CLIENT_FIXTURES)));
}

/** Header pairs as a lower-case record, as the proxy passes them. */
export function lowerHeaders(pairs: [string, string][]): Record<string, string> {
  return Object.fromEntries(pairs.map(([name, value]) => [name.toLowerCase(), value]));
}

/** One response fixture: its file, the API it belongs to, and the content type it is served with. */
export interface FixtureCase {
  file: string;
  api: ApiName;
  contentType: string | null;
}

const SSE = "text/event-stream";
const JSON_TYPE = "application/json";
const EVENT_STREAM = "application/vnd.amazon.eventstream";

/** Fixtures `<dir>/<name><ext>` of one API served with one content type. */
function each(dir: string, ext: string, api: ApiName, contentType: string, names: string[]): FixtureCase[] {
  return names.map((name) => ({ file: `${dir}/${name}${ext}`, api, contentType }));
}

/** Every byte-stream response fixture (WebSocket ones are fed per message and tested separately). */
export const RESPONSE_FIXTURES: FixtureCase[] = [
  ...each("anthropic", ".sse", "anthropic.messages", SSE, [
    "text",
    "thinking",
    "tool_use_parallel",
    "server_tool",
    "overloaded_error",
    "error_midstream",
    "refusal",
    "empty",
    "truncated",
    "unknown_events",
    "bad_json",
  ]),
  { file: "anthropic/message.json", api: "anthropic.messages", contentType: JSON_TYPE },
  { file: "anthropic/error.json", api: "anthropic.messages", contentType: JSON_TYPE },
  ...each("openai_responses", ".sse", "openai.responses", SSE, [
    "text",
    "reasoning",
    "function_calls_parallel",
    "web_search",
    "refusal",
    "failed",
    "error_event",
    "incomplete",
    "truncated",
  ]),
  { file: "openai_responses/response.json", api: "openai.responses", contentType: JSON_TYPE },
  { file: "openai_responses/error.json", api: "openai.responses", contentType: JSON_TYPE },
  ...each("openai_chat", ".sse", "openai.chat_completions", SSE, [
    "text_usage",
    "tool_calls_parallel",
    "refusal",
    "error_midstream",
    "no_usage",
  ]),
  { file: "openai_chat/completion.json", api: "openai.chat_completions", contentType: JSON_TYPE },
  { file: "azure/chat_content_filter.sse", api: "openai.chat_completions", contentType: SSE },
  { file: "openrouter/chat_cost.sse", api: "openai.chat_completions", contentType: SSE },
  { file: "openrouter/completion_cost.json", api: "openai.chat_completions", contentType: JSON_TYPE },
  { file: "openrouter/responses_cost.sse", api: "openai.responses", contentType: SSE },
  ...each("google", ".sse", "google.stream_generate", SSE, [
    "text",
    "thinking",
    "function_calls_parallel",
    "safety_block",
    "finish_safety",
    "error_midstream",
    "truncated",
  ]),
  { file: "google/generate.json", api: "google.generate", contentType: JSON_TYPE },
  { file: "google/stream_array.json", api: "google.stream_generate", contentType: JSON_TYPE },
  { file: "google/error.json", api: "google.generate", contentType: JSON_TYPE },
  { file: "google/code_assist.sse", api: "google.code_assist_stream_generate", contentType: SSE },
  { file: "google/code_assist_generate.json", api: "google.code_assist_generate", contentType: JSON_TYPE },
  // Vertex AI: Claude's Messages stream through streamRawPredict, Vertex's own error envelope for Claude,
  // Gemini's stream with Vertex's extra usage fields.
  { file: "vertex/claude_stream.sse", api: "anthropic.messages", contentType: SSE },
  { file: "vertex/claude_quota_error.json", api: "anthropic.messages", contentType: JSON_TYPE },
  { file: "vertex/gemini_stream.sse", api: "google.stream_generate", contentType: SSE },
  ...each("bedrock", ".eventstream", "bedrock.invoke_stream", EVENT_STREAM, [
    "invoke_stream_text",
    "invoke_stream_tool",
    "invoke_stream_exception",
  ]),
  ...each("bedrock", ".eventstream", "bedrock.converse_stream", EVENT_STREAM, [
    "converse_stream",
    "converse_stream_truncated",
  ]),
  { file: "bedrock/invoke.json", api: "bedrock.invoke", contentType: JSON_TYPE },
  { file: "bedrock/error.json", api: "bedrock.invoke", contentType: JSON_TYPE },
  { file: "bedrock/converse.json", api: "bedrock.converse", contentType: JSON_TYPE },
];

/** The parse of some bytes fed in the given chunk boundaries, with every event emitted along the way. */
export interface Parsed {
  result: ParsedResponse;
  events: StreamEvent[];
}

/** Feeds `bytes` split at `cuts` (ascending byte offsets); no cuts means one push. */
export function parseBytes(
  api: ApiName,
  contentType: string | null,
  bytes: Uint8Array,
  cuts: number[] = [],
  options: ResponseParserOptions = {},
): Parsed {
  const parser = createResponseParser(api, contentType, options);
  const events: StreamEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > start) events.push(...parser.push(bytes.subarray(start, cut)));
    start = Math.max(start, cut);
  }
  return { result: parser.finish(), events };
}

/** Parses a whole fixture in one push. */
export function parseFixture(file: string, api: ApiName, contentType: string | null): Parsed {
  return parseBytes(api, contentType, fixtureBytes(file));
}

/** A deterministic pseudo-random generator (mulberry32), so a failing chunking can be replayed by seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A `Usage` with the given counts and zeros elsewhere. */
export function usageOf(fields: Partial<Usage>): Usage {
  return {
    input: 0,
    cacheRead: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    output: 0,
    reasoning: 0,
    estimated: false,
    ...fields,
  };
}

/** A `ParsedResponse` with the given fields and empty defaults elsewhere. */
export function responseOf(fields: Partial<ParsedResponse>): ParsedResponse {
  return {
    id: null,
    model: null,
    text: "",
    thinking: "",
    toolCalls: [],
    stopReason: null,
    usage: null,
    errors: [],
    partial: false,
    ...fields,
  };
}
