/**
 * Upstream fallback for `route`: send to the first origin and, while the answer is 429 or 5xx (or the
 * origin cannot be reached) and no byte has gone to the client yet, try the next one. The proxy calls
 * this with the origins of the patches' `fallbackOrigins`; it lives in `policies/` because the rule of
 * when to fall back is the policy's, and so it can be tested without sockets.
 * @module
 */

/** One try and what came of it. */
export interface FallbackAttempt {
  origin: string;
  status?: number;
  error?: string;
}

/** The answer the client will get, the origin that gave it, and every try before it. */
export interface FallbackResult {
  response: Response;
  origin: string;
  attempts: FallbackAttempt[];
}

/** 429 (rate limited) and 5xx mean another upstream may do better; 4xx otherwise is the request's fault. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Sends through `origins` in order until one answers with a status that is not retryable; the last
 * origin's answer (or error) is final. Discarded answers have their bodies cancelled.
 * @example
 * const { response, origin } = await fetchWithFallback(["https://a", "https://b"], (o) => fetch(o + path, init));
 */
export async function fetchWithFallback(
  origins: readonly string[],
  send: (origin: string) => Promise<Response>,
): Promise<FallbackResult> {
  if (origins.length === 0) throw new TypeError("fetchWithFallback needs at least one origin, got none");
  const attempts: FallbackAttempt[] = [];
  for (const [i, origin] of origins.entries()) {
    const last = i === origins.length - 1;
    let response: Response;
    try {
      response = await send(origin);
    } catch (error) {
      if (last) throw error;
      attempts.push({ origin, error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    if (last || !isRetryableStatus(response.status)) return { response, origin, attempts };
    attempts.push({ origin, status: response.status });
    await response.body?.cancel().catch(() => {});
  }
  throw new Error("unreachable: the last origin always returns or throws");
}
