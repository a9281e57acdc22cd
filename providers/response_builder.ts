/**
 * Accumulates one response from provider-neutral calls made by each wire-format adapter, emitting the
 * `StreamEvent`s policy hooks see and building the final `ParsedResponse`. It owns the memory bound: text,
 * thinking and tool arguments share one character budget; past it, deltas still become events but are no
 * longer kept, and the result is flagged partial with an error.
 * @module
 */
import type { ParsedResponse, StreamEvent, ToolCall, Usage } from "./types.ts";
import { TextBuffer } from "./_text_buffer.ts";
import { settleUsage } from "./usage.ts";

/** Options shared by every response parser. */
export interface ResponseParserOptions {
  /** Characters of text, thinking and tool arguments kept per response. Default 4 MiB. */
  maxContentChars?: number;
  /** Longest single SSE line, JSON value or WebSocket message accepted. Default 8 MiB. */
  maxEventChars?: number;
  /** Size of the request body, used to estimate input tokens when the provider reports none. */
  requestChars?: number;
  /** The model the URL names (`ApiMatch.pathModel`); Bedrock reports it as the response's model. */
  pathModel?: string | null;
}

const DEFAULT_MAX_CONTENT = 4 * 1024 * 1024;

interface OpenTool {
  call: Omit<ToolCall, "arguments">;
  args: TextBuffer;
  index: number;
  ended: boolean;
}

/** Mutable state of one response; adapters call its methods, parsers drain its events. */
export class ResponseBuilder {
  #events: StreamEvent[] = [];
  #id: string | null = null;
  #model: string | null = null;
  #started = false;
  #text = new TextBuffer();
  #thinking = new TextBuffer();
  #refusal = new TextBuffer();
  #redacted = 0;
  #tools = new Map<string, OpenTool>();
  #stopReason: string | null = null;
  #usage: Usage | null = null;
  #usageFinal = false;
  /** Provider-reported cost of the current response, and the sum over earlier ones on this connection. */
  #providerCost: number | null = null;
  #earlierProviderCost: number | null = null;
  #errors: string[] = [];
  #providerErrors = 0;
  #warnings: string[] = [];
  #terminal = false;
  #malformed = false;
  #budget: number;
  #overBudget = false;
  #outputChars = 0;
  #thinkingChars = 0;
  readonly #requestChars: number;

  constructor(options: ResponseParserOptions = {}) {
    this.#budget = options.maxContentChars ?? DEFAULT_MAX_CONTENT;
    this.#requestChars = options.requestChars ?? 0;
  }

  /** Events produced since the last drain. */
  drain(): StreamEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  /** The response's id and model; the first call emits `message_start`, later ones fill gaps. */
  start(id: string | null, model: string | null): void {
    this.#id ??= id;
    this.#model ??= model;
    if (this.#started) return;
    this.#started = true;
    this.#events.push({ type: "message_start", id: id ?? this.#id, model: model ?? this.#model });
  }

  /**
   * A further response begins on the same connection (Codex sends many turns over one WebSocket): the
   * next `start` emits `message_start` again and the result is not complete until that response ends.
   * The result keeps the first response's id and accumulates content, errors and (summed) usage.
   */
  nextResponse(): void {
    this.#started = false;
    this.#terminal = false;
    this.#usageFinal = false;
    if (this.#providerCost !== null) {
      this.#earlierProviderCost = (this.#earlierProviderCost ?? 0) + this.#providerCost;
      this.#providerCost = null;
    }
  }

  text(index: number, delta: string): void {
    if (delta.length === 0) return;
    this.#outputChars += delta.length;
    this.#text.append(this.#keep(delta));
    this.#events.push({ type: "text_delta", index, text: delta });
  }

  thinking(index: number, delta: string): void {
    if (delta.length === 0) return;
    this.#outputChars += delta.length;
    this.#thinkingChars += delta.length;
    this.#thinking.append(this.#keep(delta));
    this.#events.push({ type: "thinking_delta", index, text: delta, redacted: false });
  }

  /** A thinking block the provider encrypted: counted, its opaque data never kept as text. */
  redactedThinking(index: number): void {
    this.#redacted++;
    this.#events.push({ type: "thinking_delta", index, text: "", redacted: true });
  }

  refusal(index: number, delta: string): void {
    if (delta.length === 0) return;
    this.#outputChars += delta.length;
    this.#refusal.append(this.#keep(delta));
    this.#events.push({ type: "text_delta", index, text: delta });
  }

  /** Opens a tool call under an adapter-chosen key (block index, item id, …). Repeats are ignored. */
  toolStart(key: string, index: number, id: string, name: string, server: boolean): void {
    const open = this.#tools.get(key);
    if (open) {
      if (!open.call.id && id) open.call.id = id;
      if (!open.call.name && name) open.call.name = name;
      return;
    }
    this.#tools.set(key, { call: { id, name, server }, args: new TextBuffer(), index, ended: false });
    this.#events.push({ type: "tool_call_start", index, id, name, server });
  }

  toolDelta(key: string, delta: string): void {
    const open = this.#tools.get(key);
    if (!open || open.ended || delta.length === 0) return;
    this.#outputChars += delta.length;
    open.args.append(this.#keep(delta));
    this.#events.push({ type: "tool_call_delta", index: open.index, argumentsDelta: delta });
  }

  /** Closes a tool call; `fullArguments` (sent whole by some APIs) is used when no deltas came. */
  toolEnd(key: string, fullArguments?: string): void {
    const open = this.#tools.get(key);
    if (!open || open.ended) return;
    if (fullArguments !== undefined && open.args.length === 0 && fullArguments.length > 0) {
      this.#outputChars += fullArguments.length;
      open.args.set(this.#keep(fullArguments));
    }
    open.ended = true;
    const { id, name } = open.call;
    this.#events.push({
      type: "tool_call_end",
      index: open.index,
      id,
      name,
      arguments: open.args.toString(),
    });
  }

  hasTool(key: string): boolean {
    return this.#tools.has(key);
  }

  /** Normalized usage so far; `final` when it is the provider's closing report. */
  usage(usage: Usage, final: boolean): void {
    this.#usage = usage;
    this.#usageFinal ||= final;
    this.#events.push({ type: "usage", usage });
  }

  /**
   * What the provider says the current response cost, in USD (OpenRouter's `usage.cost`, in credits worth
   * a dollar each). A later report for the same response replaces an earlier one, as usage reports do.
   */
  providerCost(usd: number): void {
    if (Number.isFinite(usd) && usd >= 0) this.#providerCost = usd;
  }

  stop(reason: string | null): void {
    if (reason === null) return;
    this.#stopReason = reason;
    this.#events.push({ type: "stop", reason });
  }

  /** An error the provider reported (in the stream or as the body); the response is partial. */
  providerError(errorType: string, message: string): void {
    this.#providerErrors++;
    this.#errors.push(`${errorType}: ${message}`);
    this.#events.push({ type: "error", errorType, message });
  }

  /** Data that could not be parsed; the response is partial. */
  malformed(message: string): void {
    this.#malformed = true;
    if (this.#errors.length < 100) this.#errors.push(message);
  }

  /** Something harmless was ignored (an event type this version does not know). */
  warn(message: string): void {
    if (this.#warnings.length < 20 && !this.#warnings.includes(message)) this.#warnings.push(message);
  }

  /** The provider's terminal event arrived (message_stop, response.completed, `[DONE]`, finishReason). */
  terminal(): void {
    this.#terminal = true;
  }

  get isTerminal(): boolean {
    return this.#terminal;
  }

  /** The final result. Never throws; estimates usage when none (or only a provisional one) was reported. */
  result(): ParsedResponse {
    const errors = [...this.#errors];
    if (!this.#terminal && this.#providerErrors === 0) errors.push("stream ended before its terminal event");
    const result: ParsedResponse = {
      id: this.#id,
      model: this.#model,
      text: this.#text.toString(),
      thinking: this.#thinking.toString(),
      toolCalls: [...this.#tools.values()].map((t) => ({
        id: t.call.id,
        name: t.call.name,
        arguments: t.args.toString(),
        server: t.call.server,
      })),
      stopReason: this.#stopReason,
      usage: settleUsage(this.#usage, {
        final: this.#usageFinal,
        failed: this.#providerErrors > 0,
        requestChars: this.#requestChars,
        outputChars: this.#outputChars,
        thinkingChars: this.#thinkingChars,
      }),
      errors,
      partial: !this.#terminal || this.#malformed || this.#overBudget || this.#providerErrors > 0,
    };
    if (this.#refusal.length > 0) result.refusal = this.#refusal.toString();
    if (this.#redacted > 0) result.redactedThinkingBlocks = this.#redacted;
    if (this.#warnings.length > 0) result.warnings = [...this.#warnings];
    if (this.#providerCost !== null || this.#earlierProviderCost !== null) {
      result.providerCostUsd = (this.#earlierProviderCost ?? 0) + (this.#providerCost ?? 0);
    }
    return result;
  }

  #keep(delta: string): string {
    if (this.#budget >= delta.length) {
      this.#budget -= delta.length;
      return delta;
    }
    const kept = delta.slice(0, Math.max(0, this.#budget));
    this.#budget = 0;
    if (!this.#overBudget) {
      this.#overBudget = true;
      this.#errors.push("response content exceeded the memory budget; the rest was not kept");
    }
    return kept;
  }
}
