/**
 * What the gateway has in flight, for drain: exchanges (one per HTTP request on a proxied connection),
 * WebSocket sessions (from the upgrade request to the last close) and blind tunnels, and for each client
 * connection piped into the inner server, how many of its requests are still being answered.
 *
 * Why not just `Deno.serve`'s `shutdown()`: measured on Deno 2.9.6 with standalone scripts, it closes
 * upgraded WebSockets at once with 1001 and ends in-flight h2 streams early (it sends GOAWAY, then resolves
 * without waiting for the streams). It only waits for h1 responses, and sends no `connection: close` on
 * the ones it finishes. So drain closes client connections itself, each when it has nothing in flight.
 * @module
 */

/**
 * What one in-flight unit is. `local` (a `/metrics` scrape, a UI page) keeps its connection open while
 * draining but is not counted in `total`: drain does not wait for it.
 */
export type InFlightKind = "exchange" | "websocket" | "tunnel" | "local";

/** A client connection piped into the inner server, as the front door can end it. */
export interface PipeHandle {
  /** Whether the client negotiated h2 (several requests at once; `connection: close` is illegal). */
  h2: boolean;
  /** Ends the connection gracefully: bytes already relayed still reach the client, then FIN. */
  end(): void;
}

interface PipeState {
  handle: PipeHandle;
  active: number;
  /** A response on it carried `connection: close`: the client will not send another request. */
  closeAnnounced: boolean;
  /** While draining and idle, the timer that ends it (see `lingerMs`). */
  linger?: ReturnType<typeof setTimeout>;
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
  #draining = false;

  /**
   * `lingerMs`: while draining, an HTTP/1.1 connection that has not been told `connection: close` stays
   * open this long once idle. A client that had a response without that header (its head went out before
   * the drain) will reuse the connection; closing it at once would race that next request into a broken
   * pipe. Instead the request is answered with `connection: close`, and the client moves to another
   * replica without an error. A connection still idle after `lingerMs` is ended.
   */
  constructor(options: { lingerMs?: number } = {}) {
    this.#lingerMs = options.lingerMs ?? 1_000;
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
    this.#pipes.set(pipePort, { handle, active: 0, closeAnnounced: false });
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
   * Switches to draining: every idle client connection is ended (h2, or h1 after lingering for a last
   * request that is then answered with `connection: close`), every busy one once its last request is
   * answered (or its WebSocket closed). Connections opened after this are served once.
   */
  startDraining(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const [port, pipe] of this.#pipes) if (pipe.active === 0) this.#settle(port, pipe);
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

  /** An idle connection while draining: ended now if the client knows it is closing, else after lingering. */
  #settle(port: number, pipe: PipeState): void {
    if (pipe.handle.h2 || pipe.closeAnnounced || this.#lingerMs <= 0) return this.#endPipe(port, pipe);
    if (pipe.linger !== undefined) return;
    this.#lingering.add(port);
    pipe.linger = setTimeout(() => {
      pipe.linger = undefined;
      this.#lingering.delete(port);
      if (this.#pipes.get(port) === pipe && pipe.active === 0) this.#endPipe(port, pipe);
      else if (this.#idle()) this.#wake();
    }, this.#lingerMs);
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
