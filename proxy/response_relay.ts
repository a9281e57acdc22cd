/**
 * Streams an upstream response body to the client chunk by chunk (pull-based, so the client's pace is
 * the upstream's pace and nothing is buffered whole), feeding the provider parser, the policy chain's
 * event hooks and the capture tap on the way. An upstream that sends nothing for `idleTimeoutMs` is cut;
 * a stream that keeps sending may run for hours.
 *
 * In strict durability the client must not see the answer done before its record is durable, and a client
 * takes the provider's final event (`message_stop`, `[DONE]`, `response.completed`, Gemini's last chunk) as
 * done, not the end of the stream. So the parser finds the final event's first byte in the chunk that
 * completes it (`ResponseParser.pushFindingFinal`); the bytes before it go out at once, the final event and
 * whatever follows it wait until capture reports the record durable, then go out with the end of stream.
 * @module
 */
import type { Exchange } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import type { ExchangeTap } from "../capture/sink.ts";
import type { PolicyChain } from "../policies/chain.ts";
import type { Block } from "../policies/types.ts";
import { eventStreamErrorFrame, providerErrorBody, providerErrorResponse } from "../providers/errors.ts";
import { headerRecord } from "./headers.ts";
import type { ParsedResponse, ResponseParser, StreamEvent } from "../providers/types.ts";

export type RelayEnd = "complete" | "blocked" | "upstream-error" | "client-aborted";

export interface RelayOptions {
  exchange: Exchange;
  body: ReadableStream<Uint8Array>;
  chain: PolicyChain;
  parser: ResponseParser | null;
  tap: ExchangeTap;
  idleTimeoutMs: number;
  /**
   * Called exactly once when the relay ends, before the client sees the end (awaited in strict mode, and
   * then before the client sees the final event).
   */
  onEnd(outcome: RelayEnd, parsed: ParsedResponse | null): Promise<void>;
  /**
   * Whether the client's end of stream, and the response's final event, wait for `onEnd` (strict
   * durability). Without a parser only the end of stream can wait: a body read whole waits whole.
   */
  holdEndUntilDurable: boolean;
  onBytes(count: number): void;
  /** Aborts the upstream fetch (and its connection). */
  abortUpstream(reason: string): void;
  /** Whether the client has gone away (its request signal aborted). */
  clientGone(): boolean;
}

/**
 * Returns the body to hand to `new Response(...)`. An answer of declared length up to `wholeUpTo` bytes
 * (a non-streaming JSON reply) is read whole and handed over as bytes: the parser and capture see it
 * once, and the inner server writes it in one go instead of pulling a JS stream chunk by chunk (measured
 * hot in profiles). Anything else streams. When the whole read fails, the answer is a 502 in the
 * provider's shape instead (returned as a `Response`).
 */
export async function relayBody(
  options: RelayOptions,
  whole: { upTo: number; exact: boolean },
): Promise<Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | Response> {
  const relay = startRelay(options);
  if (whole.upTo <= 0 || relay.checkEventsFirst) return relay.stream([]);
  let bytes: Uint8Array<ArrayBuffer> | "failed";
  if (whole.exact) bytes = await relay.collect();
  else {
    const read: Uint8Array[] = [];
    let size = 0;
    while (true) {
      const result = await relay.read();
      if (result === "failed") break;
      if (result.done) break;
      read.push(result.value);
      size += result.value.byteLength;
      // Longer than declared (a decoded body): stream on from here with what was read.
      if (size > whole.upTo) return relay.stream(read);
    }
    // Upstream chunks are never backed by a SharedArrayBuffer.
    bytes = relay.failure()
      ? "failed"
      : (read.length === 1 ? read[0] : concat(read, size)) as Uint8Array<ArrayBuffer>;
  }
  if (bytes === "failed") {
    // Nothing reached the client yet: it gets a gateway error in the provider's shape, not a 200 whose
    // body breaks.
    const error = providerErrorResponse(
      options.exchange.provider,
      502,
      "upstream_unavailable",
      `Recondo: the answer from ${options.exchange.target.host} broke off: ${
        (relay.failure() as Error).message
      }`,
    );
    options.exchange.response = { status: 502, headers: headerRecord(error.headers) };
    await relay.end("upstream-error");
    return error;
  }
  if (bytes.byteLength > 0) relay.forward(bytes);
  await relay.end("complete");
  return bytes;
}

/**
 * Most bytes held after a final event. Providers send nothing after it; an upstream that goes on past this
 * gets its bytes released (the exchange says so) rather than buffered without bound.
 */
const MAX_HELD_BYTES = 1024 * 1024;

function startRelay(options: RelayOptions) {
  const { exchange, chain, parser, tap } = options;
  // Taken only when reading chunk by chunk: `collect` hands the untouched stream to `bytes()`.
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  const getReader = () => (reader ??= options.body.getReader());
  const checkEventsFirst = chain.watchesEvents && parser !== null;
  // Strict durability parses each streamed chunk before it goes out, to find the final event in it.
  const findFinal = options.holdEndUntilDurable && parser !== null;
  /** From the final event on, the bytes waiting for the record to be durable; null before it. */
  let held: Uint8Array[] | null = null;
  let heldBytes = 0;
  let ended = false;
  let cancelled = false;
  // One watchdog per stream instead of a timer and a promise race per chunk (measured hot in profiles).
  // Only time spent waiting on the upstream counts: a slow client pulling slowly is not upstream idleness.
  let lastActivity = Date.now();
  let reading = false;
  let idleError: Error | null = null;
  let failure: unknown = null;
  const watchdog = setInterval(() => {
    if (!reading || Date.now() - lastActivity < options.idleTimeoutMs) return;
    idleError = new Error(`no bytes from upstream for ${options.idleTimeoutMs} ms`);
    clearInterval(watchdog);
    if (reader) reader.cancel(idleError).catch(() => {});
    else options.abortUpstream(idleError.message);
  }, Math.max(10, Math.min(1000, Math.floor(options.idleTimeoutMs / 4))));

  const end = (reported: RelayEnd): Promise<void> => {
    if (ended) return Promise.resolve();
    ended = true;
    clearInterval(watchdog);
    // The client leaving aborts the upstream, which may surface first as an upstream error.
    const outcome = reported !== "blocked" && (cancelled || options.clientGone())
      ? "client-aborted"
      : reported;
    exchange.timing.end = Date.now();
    exchange.outcome = outcome;
    let parsed: ParsedResponse | null = null;
    try {
      parsed = parser?.finish() ?? null;
    } catch (error) {
      exchange.errors.push(`parser failed: ${(error as Error).message}`);
    }
    const done = options.onEnd(outcome, parsed);
    return options.holdEndUntilDurable ? done : Promise.resolve();
  };

  /** The next upstream chunk, or "failed" once a failed read has ended the exchange. */
  const read = async (): Promise<ReadableStreamReadResult<Uint8Array> | "failed"> => {
    try {
      lastActivity = Date.now();
      reading = true;
      const result = await getReader().read();
      reading = false;
      lastActivity = Date.now();
      if (idleError) throw idleError;
      if (!result.done) exchange.timing.firstByte ??= Date.now();
      return result;
    } catch (error) {
      return failed(error);
    }
  };

  /** The whole body in one call (Deno reads a fetch body natively), or "failed" like `read`. */
  const collect = async (): Promise<Uint8Array<ArrayBuffer> | "failed"> => {
    try {
      lastActivity = Date.now();
      reading = true;
      const bytes = await new Response(options.body).bytes();
      reading = false;
      if (idleError) throw idleError;
      if (bytes.byteLength > 0) exchange.timing.firstByte ??= Date.now();
      return bytes;
    } catch (error) {
      return failed(error);
    }
  };

  const failed = (error: unknown): "failed" => {
    failure = idleError ?? error;
    exchange.errors.push(`upstream body failed: ${(failure as Error).message}`);
    options.abortUpstream("upstream body failed");
    return "failed";
  };

  /** Counts, captures and (unless `parsed` already) parses a chunk the client gets or is held for it. */
  const forward = (chunk: Uint8Array, parsed = false): void => {
    options.onBytes(chunk.byteLength);
    tap.responseChunk(chunk);
    if (!parsed && parser) parser.push(chunk);
  };

  /** Keeps bytes from the final event on; past MAX_HELD_BYTES, lets them go (the exchange notes it). */
  const hold = (bytes: Uint8Array, controller: ReadableStreamDefaultController<Uint8Array>): boolean => {
    (held ??= []).push(bytes);
    heldBytes += bytes.byteLength;
    if (heldBytes <= MAX_HELD_BYTES) return false;
    exchange.errors.push(
      `strict durability: ${heldBytes} bytes from the final event on went out before the record was durable`,
    );
    log.warn("relay.hold_exceeded", { exchangeId: exchange.id, bytes: heldBytes });
    release(controller);
    return true;
  };

  /** Sends what was held: once the record is durable, or past the bound. */
  const release = (controller: ReadableStreamDefaultController<Uint8Array>): void => {
    if (held && held.length > 0) controller.enqueue(held.length === 1 ? held[0] : concat(held, heldBytes));
    held = null;
    heldBytes = 0;
  };

  const stream = (already: Uint8Array[]): ReadableStream<Uint8Array> =>
    new ReadableStream<Uint8Array>({
      async pull(controller) {
        // Loops only while the bytes read are all held: a pull must enqueue or end, or it is not called again.
        while (true) {
          const result = already.length > 0
            ? { done: false as const, value: already.shift()! }
            : await read();
          if (result === "failed") {
            await end("upstream-error");
            release(controller);
            return controller.error(failure);
          }
          if (result.done) {
            await end("complete");
            release(controller);
            controller.close();
            return;
          }
          const chunk = result.value;
          if (held && findFinal) {
            // Everything after the final event waits with it (providers send nothing more but the end).
            parser.pushFindingFinal(chunk);
            forward(chunk, true);
            if (hold(chunk.slice(), controller)) return;
            continue;
          }
          let events: StreamEvent[] | null = null;
          let finalAt: number | null = null;
          if (findFinal) ({ events, finalAt } = parser.pushFindingFinal(chunk));
          else if (checkEventsFirst) events = parser.push(chunk);
          const block = checkEventsFirst && events ? checkEvents(exchange, chain, events) : null;
          if (block) {
            await getReader().cancel("blocked by policy").catch(() => {});
            options.abortUpstream("blocked by policy");
            await end("blocked");
            controller.enqueue(sseErrorEvent(exchange, block));
            controller.close();
            return;
          }
          if (finalAt === null) {
            controller.enqueue(chunk);
            forward(chunk, events !== null);
            return;
          }
          // The final event: what came before it goes out now; it waits (a copy: capture owns the chunk).
          if (finalAt > 0) controller.enqueue(chunk.subarray(0, finalAt));
          const released = hold(chunk.slice(finalAt), controller);
          forward(chunk, true);
          if (finalAt > 0 || released) return;
        }
      },
      async cancel(reason) {
        cancelled = true;
        exchange.errors.push(`client went away: ${String(reason ?? "cancelled")}`);
        options.abortUpstream("client went away");
        await getReader().cancel(reason).catch(() => {});
        await end("client-aborted");
      },
    }, { highWaterMark: 0 });

  return { checkEventsFirst, read, collect, forward, end, stream, failure: () => failure };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function checkEvents(exchange: Exchange, chain: PolicyChain, events: StreamEvent[]): Block | null {
  for (const event of events) {
    const block = chain.runEvent(exchange, event);
    if (block) return block;
  }
  return null;
}

/**
 * An SSE `error` event in the provider's error shape, ending a stream a policy stopped; for an AWS event
 * stream (Bedrock), an exception frame instead.
 */
function sseErrorEvent(exchange: Exchange, block: Block): Uint8Array {
  if (exchange.response?.headers["content-type"]?.includes("vnd.amazon.eventstream")) {
    return eventStreamErrorFrame(block.status, block.errorKind ?? "blocked", block.reason);
  }
  const body = providerErrorBody(exchange.provider, block.status, block.errorKind ?? "blocked", block.reason);
  return new TextEncoder().encode(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
}
