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
  readonly #waiters = new Set<() => void>();
  #draining = false;

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
    if (pipe) pipe.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#counts[kind]--;
      if (pipe) {
        pipe.active--;
        if (this.#draining && pipe.active === 0) this.#endPipe(pipePort!, pipe);
      }
      if (this.#idle()) this.#wake();
    };
  }

  /** The front door registers a client connection once it is piped into the inner server. */
  openPipe(pipePort: number, handle: PipeHandle): void {
    this.#pipes.set(pipePort, { handle, active: 0 });
  }

  /** The front door forgets a connection on close, end or error. */
  closePipe(pipePort: number): void {
    this.#pipes.delete(pipePort);
    if (this.#closing.delete(pipePort) && this.#idle()) this.#wake();
  }

  /** Client connections open, for tests and diagnosis. */
  get pipes(): number {
    return this.#pipes.size;
  }

  /**
   * Switches to draining: every idle client connection is ended now, every busy one as soon as its last
   * request is answered (or its WebSocket closed). Connections opened after this are served once.
   */
  startDraining(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const [port, pipe] of this.#pipes) if (pipe.active === 0) this.#endPipe(port, pipe);
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
    return this.total === 0 && this.#closing.size === 0;
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
