/**
 * `/healthz` (liveness) and `/readyz` (readiness) for load balancers and orchestrators. Liveness says the
 * process answers at all, so it stays 200 while draining (restarting a draining gateway would cut the
 * streams drain is waiting for). Readiness says "send me new work": 503 once draining, or when a check
 * supplied by the caller (a database it cannot reach) reports a reason, throws or hangs.
 * @module
 */
import { log } from "../core/log.ts";

/** Longest a readiness check may take before it counts as failed. */
export const READINESS_TIMEOUT_MS = 2_000;

/** Options of {@link createHealth}. */
export interface HealthOptions {
  draining(): boolean;
  /** Extra checks; each returns the reasons it is not ready (empty: ready). */
  readiness?: () => Promise<string[]>;
  /** Bound on `readiness` (default {@link READINESS_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** The two endpoints, as a handler that answers `null` for any other path. */
export interface Health {
  handle(req: Request): Promise<Response> | null;
  /** Why the gateway is not ready; empty when it is. */
  reasons(): Promise<string[]>;
}

/**
 * @example
 * const health = createHealth({ draining: () => inFlight.draining, readiness: async () => [] });
 * const res = await health.handle(new Request("http://x/readyz")); // 200 {"status":"ready"}
 */
export function createHealth(options: HealthOptions): Health {
  const timeoutMs = options.timeoutMs ?? READINESS_TIMEOUT_MS;
  const reasons = async (): Promise<string[]> => {
    const found = options.draining() ? ["draining"] : [];
    if (options.readiness) found.push(...await boundedCheck(options.readiness, timeoutMs));
    return found;
  };
  return {
    reasons,
    handle(req) {
      const path = new URL(req.url).pathname;
      if (path === "/healthz") return Promise.resolve(Response.json({ status: "ok" }));
      if (path !== "/readyz") return null;
      return reasons().then((found) =>
        found.length === 0
          ? Response.json({ status: "ready" })
          : Response.json({ status: "not ready", reasons: found }, { status: 503 })
      );
    },
  };
}

async function boundedCheck(check: () => Promise<string[]>, timeoutMs: number): Promise<string[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([`readiness check timed out after ${timeoutMs} ms`]), timeoutMs);
  });
  try {
    return await Promise.race([
      check().then((found) => found.map(String)),
      timeout,
    ]);
  } catch (error) {
    log.warn("health.readiness_failed", { error });
    return [`readiness check failed: ${(error as Error).message}`];
  } finally {
    clearTimeout(timer);
  }
}
