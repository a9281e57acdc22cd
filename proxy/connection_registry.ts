/**
 * Decrypted client connections are piped into one loopback `Deno.serve`; the inner server learns which
 * client and CONNECT target a request belongs to from the remote port of the pipe (the proxy's local
 * port on it). Entries are removed on close, end and error alike (a spike leaked when only `close` was
 * handled).
 * @module
 */
import type { ClientIdentity } from "../core/exchange.ts";

/** What the front door learned about a client connection before handing it to the inner server. */
export interface ConnectionContext {
  id: string;
  /**
   * `intercept`: TLS terminated for a CONNECT target; `forward`: absolute-form plain-HTTP proxy requests;
   * `local`: origin-form requests for Recondo's own endpoints.
   */
  kind: "intercept" | "forward" | "local";
  /** CONNECT target for `intercept`. */
  host: string | null;
  port: number | null;
  client: ClientIdentity;
  /** The ALPN protocol negotiated with the client (`h2`, `http/1.1`) or `null`. */
  alpn: string | null;
}

export class ConnectionRegistry {
  readonly #byPort = new Map<number, ConnectionContext>();

  set(pipePort: number, context: ConnectionContext): void {
    this.#byPort.set(pipePort, context);
  }

  get(pipePort: number): ConnectionContext | undefined {
    return this.#byPort.get(pipePort);
  }

  delete(pipePort: number): void {
    this.#byPort.delete(pipePort);
  }

  get size(): number {
    return this.#byPort.size;
  }
}
