/**
 * Token usage, normalized to one meaning across providers (see `Usage` in types.ts). Each provider counts
 * differently, and peers bill cached tokens twice by missing it:
 * - Anthropic `input_tokens` excludes cache reads and writes; writes are split into 5-minute and 1-hour.
 * - OpenAI `input_tokens`/`prompt_tokens` include `cached_tokens`; `output_tokens` include reasoning.
 * - Gemini `promptTokenCount` includes `cachedContentTokenCount`; `thoughtsTokenCount` is *not* part of
 *   `candidatesTokenCount` but is billed at the output rate; `toolUsePromptTokenCount` is billed as input.
 * Streams report usage cumulatively: a later report replaces the fields it names (`mergeUsageReport`).
 * @module
 */
import type { Usage } from "./types.ts";

/** A provider's raw usage object, as it appeared on the wire. */
export type RawUsage = Record<string, unknown>;

/** Usage with every count zero; a base for sums. */
export function zeroUsage(): Usage {
  return {
    input: 0,
    cacheRead: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    output: 0,
    reasoning: 0,
    estimated: false,
  };
}

/**
 * Applies a cumulative usage report on top of earlier ones: each field the new report states replaces the
 * earlier value, fields it leaves out (or sends as null) keep theirs. Never sums.
 * @example mergeUsageReport({ input_tokens: 10, output_tokens: 1 }, { output_tokens: 52 }) // { input_tokens: 10, output_tokens: 52 }
 */
export function mergeUsageReport(previous: RawUsage | null, report: RawUsage): RawUsage {
  const merged: RawUsage = { ...(previous ?? {}) };
  for (const [key, value] of Object.entries(report)) {
    if (value !== null && value !== undefined) merged[key] = value;
  }
  return merged;
}

/** Anthropic Messages `usage` (message_start, message_delta, or a non-streaming message). */
export function anthropicUsage(raw: RawUsage): Usage {
  const creation = count(raw.cache_creation_input_tokens);
  const split = record(raw.cache_creation);
  let write1h = count(split?.ephemeral_1h_input_tokens);
  let write5m = count(split?.ephemeral_5m_input_tokens);
  // Without the split (older API versions), every write used the default 5-minute lifetime.
  if (write5m + write1h < creation) write5m = creation - write1h;
  if (write1h > creation && creation > 0) write1h = creation;
  const details = record(raw.output_tokens_details);
  const output = count(raw.output_tokens);
  return {
    input: count(raw.input_tokens),
    cacheRead: count(raw.cache_read_input_tokens),
    cacheWrite5m: write5m,
    cacheWrite1h: write1h,
    output,
    reasoning: Math.min(output, count(details?.thinking_tokens ?? details?.reasoning_tokens)),
    estimated: false,
  };
}

/**
 * Bedrock Converse `usage`: `inputTokens` excludes `cacheReadInputTokens` and `cacheWriteInputTokens` (their
 * sum with `outputTokens` is `totalTokens`), as Anthropic counts; writes use the default 5-minute lifetime.
 */
export function converseUsage(raw: RawUsage): Usage {
  return {
    input: count(raw.inputTokens),
    cacheRead: count(raw.cacheReadInputTokens),
    cacheWrite5m: count(raw.cacheWriteInputTokens),
    cacheWrite1h: 0,
    output: count(raw.outputTokens),
    reasoning: 0,
    estimated: false,
  };
}

/**
 * OpenAI Responses `usage`: `input_tokens` includes `input_tokens_details.cached_tokens` and, where
 * OpenRouter reports cache writes (Anthropic and Gemini models behind it), `cache_write_tokens`.
 */
export function openaiResponsesUsage(raw: RawUsage): Usage {
  const details = record(raw.input_tokens_details);
  const cached = count(details?.cached_tokens);
  const written = count(details?.cache_write_tokens);
  const output = count(raw.output_tokens);
  return {
    input: Math.max(0, count(raw.input_tokens) - cached - written),
    cacheRead: cached,
    cacheWrite5m: written,
    cacheWrite1h: 0,
    output,
    reasoning: Math.min(output, count(record(raw.output_tokens_details)?.reasoning_tokens)),
    estimated: false,
  };
}

/**
 * OpenAI Chat Completions `usage`: `prompt_tokens` includes `prompt_tokens_details.cached_tokens` and, where
 * OpenRouter reports cache writes, `prompt_tokens_details.cache_write_tokens` (5-minute writes: the default).
 */
export function openaiChatUsage(raw: RawUsage): Usage {
  const details = record(raw.prompt_tokens_details);
  const cached = count(details?.cached_tokens);
  const written = count(details?.cache_write_tokens);
  const output = count(raw.completion_tokens);
  return {
    input: Math.max(0, count(raw.prompt_tokens) - cached - written),
    cacheRead: cached,
    cacheWrite5m: written,
    cacheWrite1h: 0,
    output,
    reasoning: Math.min(output, count(record(raw.completion_tokens_details)?.reasoning_tokens)),
    estimated: false,
  };
}

/** Gemini `usageMetadata` (also inside Code Assist's `response` wrapper). */
export function geminiUsage(raw: RawUsage): Usage {
  const cached = count(raw.cachedContentTokenCount);
  const thoughts = count(raw.thoughtsTokenCount);
  return {
    input: Math.max(0, count(raw.promptTokenCount) - cached) + count(raw.toolUsePromptTokenCount),
    cacheRead: cached,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    output: count(raw.candidatesTokenCount) + thoughts,
    reasoning: thoughts,
    estimated: false,
  };
}

/** The sum of two usages, for separate responses (never for cumulative reports of one response). */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    input: a.input + b.input,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheWrite5m: a.cacheWrite5m + b.cacheWrite5m,
    cacheWrite1h: a.cacheWrite1h + b.cacheWrite1h,
    output: a.output + b.output,
    reasoning: a.reasoning + b.reasoning,
    estimated: a.estimated || b.estimated,
  };
}

/** Characters per token used by every estimate: a coarse, documented rule of thumb for English and code. */
export const CHARS_PER_TOKEN = 4;

/** Tokens for a character count, rounded up. */
export function estimateTokens(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / CHARS_PER_TOKEN);
}

/**
 * Usage estimated from sizes, for when the provider reported none (the client dropped the stream, the
 * upstream failed mid-way). Marked `estimated: true`.
 * @example estimateUsage({ inputChars: 4000, outputChars: 400 }) // input 1000, output 100, estimated
 */
export function estimateUsage(
  sizes: { inputChars: number; outputChars: number; reasoningChars?: number },
): Usage {
  const output = estimateTokens(sizes.outputChars);
  return {
    ...zeroUsage(),
    input: estimateTokens(sizes.inputChars),
    output,
    reasoning: Math.min(output, estimateTokens(sizes.reasoningChars ?? 0)),
    estimated: true,
  };
}

/** What a response's usage is settled from when it ends. */
export interface UsageSettlement {
  /** The provider's closing report arrived (not only a provisional one). */
  final: boolean;
  /** The provider answered with an error. */
  failed: boolean;
  requestChars: number;
  /** Characters generated: text, thinking, refusal and tool arguments. */
  outputChars: number;
  thinkingChars: number;
}

/**
 * The usage to record for a finished response. A final report is used as is. An error that generated
 * nothing bills nothing (null). A provisional report (message_start, an early chunk) keeps its prompt
 * counts, which are final from the start, and takes the larger of its output count and the estimate of
 * what was seen. With no report at all, everything is estimated. Any estimate is marked `estimated`.
 */
export function settleUsage(reported: Usage | null, end: UsageSettlement): Usage | null {
  if (reported && end.final) return reported;
  if (end.failed && end.outputChars === 0) return null;
  const output = Math.max(reported?.output ?? 0, estimateTokens(end.outputChars));
  const reasoning = Math.min(output, Math.max(reported?.reasoning ?? 0, estimateTokens(end.thinkingChars)));
  if (reported) return { ...reported, output, reasoning, estimated: true };
  return { ...zeroUsage(), input: estimateTokens(end.requestChars), output, reasoning, estimated: true };
}

/** Total prompt-side tokens (base input plus cache reads and writes), which price tiers are chosen by. */
export function promptTokens(usage: Usage): number {
  return usage.input + usage.cacheRead + usage.cacheWrite5m + usage.cacheWrite1h;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

function record(value: unknown): RawUsage | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as RawUsage : null;
}
