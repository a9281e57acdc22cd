/**
 * What the gateway has in flight, for drain: exchanges (one per HTTP request on a proxied connection),
 * WebSocket sessions (from the upgrade request to the last close) and blind tunnels, and for each client
 * connection piped into the inner server, how many of its requests are still being answered.
 *
 * Why not just `Deno.serve`'s `shutdown()`: measured on Deno 2.9.6 with standalone scripts, it closes
 * upgraded WebSockets at once with 1001 and ends in-flight h2 streams early (it sends GOAWAY, then resolves
 * without waiting for the streams). It only waits for h1 responses, and sends no `connection: close` on
 * the ones it finishes. So drain closes client connections itself, each when it has nothing in flight:
 * h1 after a response that said `connection: close`, h2 after two GOAWAYs of its own (RFC 9113 §6.8).
 * @module
 */
import { MAX_STREAM_ID } from "./h2_frames.ts";

/**
 * What one in-flight unit is. `local` (a `/metrics` scrape, a UI page) keeps its connection open while
 * draining but is not counted in `total`: drain does not wait for it.
 */
export type InFlightKind = "exchange" | "websocket" | "tunnel" | "local";

/** A client connection piped into the inner server, as the front door can end it. */
export type PipeHandle = H1PipeHandle | H2PipeHandle;

/** An HTTP/1.1 (or not yet known) connection: ended after a response that said `connection: close`. */
export interface H1PipeHandle {
  h2: false;
  /** Ends the connection gracefully: bytes already relayed still reach the client, then FIN. */
  end(): void;
}

/** An h2 connection (several requests at once; `connection: close` is illegal): told to go by GOAWAY. */
export interface H2PipeHandle {
  h2: true;
  /** Ends the connection gracefully: bytes already relayed still reach the client, then FIN. */
  end(): void;
  /** Writes a GOAWAY (NO_ERROR) towards the client between two of the inner server's frames. */
  goAway(lastStreamId: number): void;
  /** The highest stream the client opened so far (0: none) and when, as `performance.now()`. */
  lastStream(): { id: number; at: number };
}

interface PipeState {
  handle: PipeHandle;
  active: number;
  /** A response on it carried `connection: close`: the client will not send another request. */
  closeAnnounced: boolean;
  /** While draining and idle, the timer that ends it (see `lingerMs`, `goAwayGraceMs`). */
  linger?: ReturnType<typeof setTimeout>;
  /** h2, draining: when the first GOAWAY (no more streams) was sent, as `performance.now()`. */
  goAwayAt?: number;
}

/**
 * Counts in-flight work and ends idle client connections once draining. One per gateway.
 * @example
 * const release = inFlight.hold("exchange", pipePort);
 * info.completed.then(release, release);
 */
export class InFlight {
  readonly #counts: Record<InFlightKind, number> = {
    exchange: 0,
    websocket: 0,
    tunnel: 0,
    local: 0,
  };
  readonly #pipes = new Map<number, PipeState>();
  /** Pipes drain ended that have not closed yet: their last bytes may still be on the way. */
  readonly #closing = new Set<number>();
  /** Idle h1 pipes drain waits on for a last request (their end is scheduled). */
  readonly #lingering = new Set<number>();
  readonly #waiters = new Set<() => void>();
  readonly #lingerMs: number;
  readonly #goAwayGraceMs: number;
  #draining = false;

  /**
   * `lingerMs`: while draining, an HTTP/1.1 connection that has not been told `connection: close` stays
   * open this long once idle. A client that had a response without that header (its head went out before
   * the drain) will reuse the connection; closing it at once would race that next request into a broken
   * pipe. Instead the request is answered with `connection: close`, and the client moves to another
   * replica without an error. A connection still idle after `lingerMs` is ended.
   *
   * `goAwayGraceMs`: an h2 connection gets a GOAWAY that refuses nothing (last stream 2^31−1) when drain
   * starts, or when it opens during drain. A stream the client started before that GOAWAY reached it is
   * still on its way, so the connection, once idle, is ended only when it has been quiet this long since
   * that GOAWAY and since the last stream the client opened (about a round trip, as RFC 9113 §6.8
   * suggests); then a second GOAWAY names the last stream it opened, and the pipe ends.
   */
  constructor(options: { lingerMs?: number; goAwayGraceMs?: number } = {}) {
    this.#lingerMs = options.lingerMs ?? 1_000;
    this.#goAwayGraceMs = options.goAwayGraceMs ?? 200;
  }

  /** Total in flight: exchanges + WebSocket sessions + tunnels. */
  get total(): number {
    return this.#counts.exchange + this.#counts.websocket + this.#counts.tunnel;
  }

  /** In flight of one kind. */
  count(kind: InFlightKind): number {
    return this.#counts[kind];
  }

  /** Whether `startDraining` was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Counts one unit until the returned release is called (idempotent). `pipePort` ties an exchange or a
   * WebSocket to its client connection, so that connection is ended once idle while draining.
   */
  hold(kind: InFlightKind, pipePort?: number): () => void {
    this.#counts[kind]++;
    const pipe = pipePort === undefined ? undefined : this.#pipes.get(pipePort);
    if (pipe) {
      pipe.active++;
      if (pipe.linger !== undefined) {
        clearTimeout(pipe.linger);
        pipe.linger = undefined;
        this.#lingering.delete(pipePort!);
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#counts[kind]--;
      if (pipe) {
        pipe.active--;
        if (this.#draining && pipe.active === 0 && this.#pipes.has(pipePort!)) this.#settle(pipePort!, pipe);
      }
      if (this.#idle()) this.#wake();
    };
  }

  /** The front door registers a client connection once it is piped into the inner server. */
  openPipe(pipePort: number, handle: PipeHandle): void {
    const pipe: PipeState = { handle, active: 0, closeAnnounced: false };
    this.#pipes.set(pipePort, pipe);
    if (this.#draining && handle.h2) {
      this.#goAway(pipe);
      this.#settle(pipePort, pipe);
    }
  }

  /** The inner server sent `connection: close` on this connection (draining). */
  announceClose(pipePort: number): void {
    const pipe = this.#pipes.get(pipePort);
    if (pipe) pipe.closeAnnounced = true;
  }

  /** The front door forgets a connection on close, end or error. */
  closePipe(pipePort: number): void {
    const pipe = this.#pipes.get(pipePort);
    if (pipe?.linger !== undefined) clearTimeout(pipe.linger);
    this.#pipes.delete(pipePort);
    const lingered = this.#lingering.delete(pipePort);
    if ((this.#closing.delete(pipePort) || lingered) && this.#idle()) this.#wake();
  }

  /** Client connections open, for tests and diagnosis. */
  get pipes(): number {
    return this.#pipes.size;
  }

  /**
   * Switches to draining: every h2 connection, idle or busy, is sent a GOAWAY that refuses nothing; every
   * idle client connection is ended (h1 after lingering for a last request that is then answered with
   * `connection: close`, h2 after its GOAWAY grace), every busy one once its last request is answered (or
   * its WebSocket closed). h1 connections opened after this are served once; h2 ones get the GOAWAY at
   * once.
   */
  startDraining(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const [port, pipe] of this.#pipes) {
      if (pipe.handle.h2) this.#goAway(pipe);
      if (pipe.active === 0) this.#settle(port, pipe);
    }
  }

  /**
   * Resolves with `true` when nothing is in flight and every connection drain ended has closed (its last
   * bytes delivered), or with `false` after `timeoutMs`.
   */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#idle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(idle);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#waiters.add(wake);
    });
  }

  #idle(): boolean {
    return this.total === 0 && this.#closing.size === 0 && this.#lingering.size === 0;
  }

  /**
   * An idle connection while draining: ended now if the client knows it is closing, else after lingering
   * (h1) or once its GOAWAY grace has passed (h2).
   */
  #settle(port: number, pipe: PipeState): void {
    const handle = pipe.handle;
    if (handle.h2) {
      const quietSince = Math.max(pipe.goAwayAt ?? -Infinity, handle.lastStream().at);
      const wait = quietSince + this.#goAwayGraceMs - performance.now();
      if (wait > 0) return this.#linger(port, pipe, wait, () => this.#settle(port, pipe));
      handle.goAway(handle.lastStream().id);
      return this.#endPipe(port, pipe);
    }
    if (pipe.closeAnnounced || this.#lingerMs <= 0) return this.#endPipe(port, pipe);
    this.#linger(port, pipe, this.#lingerMs, () => this.#endPipe(port, pipe));
  }

  /** Keeps an idle connection open (and drain waiting) for `ms`; `then` runs if it is still idle then. */
  #linger(port: number, pipe: PipeState, ms: number, then: () => void): void {
    if (pipe.linger !== undefined) return;
    this.#lingering.add(port);
    pipe.linger = setTimeout(() => {
      pipe.linger = undefined;
      this.#lingering.delete(port);
      if (this.#pipes.get(port) === pipe && pipe.active === 0) then();
      else if (this.#idle()) this.#wake();
    }, ms);
  }

  /** The first GOAWAY of an h2 connection: no more streams, none refused. */
  #goAway(pipe: PipeState): void {
    if (!pipe.handle.h2 || pipe.goAwayAt !== undefined) return;
    pipe.goAwayAt = performance.now();
    pipe.handle.goAway(MAX_STREAM_ID);
  }

  #endPipe(port: number, pipe: PipeState): void {
    this.#pipes.delete(port);
    this.#closing.add(port);
    pipe.handle.end();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
