/**
 * Test support: a real HTTP webhook receiver on 127.0.0.1 that records every POST and checks its
 * signature on its own (HMAC-SHA256 over `<X-Recondo-Timestamp>.<body>`, computed here with node:crypto,
 * not with the code under test). A path can be told to fail its first N posts with 500, to see retries.
 * @module
 */
import { createHmac } from "node:crypto";

/** One POST as received. */
export interface ReceivedPost {
  path: string;
  body: string;
  json: Record<string, unknown>;
  alertId: string | null;
  attempt: number;
  /** The receiver's own verdict on the signature header. */
  signatureValid: boolean;
  /** What the receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  posts: ReceivedPost[];
  /** Posts to `path` that the receiver accepted (2xx). */
  accepted(path: string): ReceivedPost[];
  /** Resolves once `predicate` holds, polling; throws naming what was received after `timeoutMs`. */
  waitFor(predicate: (posts: ReceivedPost[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the receiver; `secret` is the key every webhook in the test shares. */
export function startWebhookReceiver(
  options: { secret: string; failFirst?: Record<string, number> },
): WebhookReceiver {
  const posts: ReceivedPost[] = [];
  const failures = new Map(Object.entries(options.failFirst ?? {}));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const body = await req.text();
    const timestamp = req.headers.get("x-recondo-timestamp") ?? "";
    const expected = `sha256=${
      createHmac("sha256", options.secret).update(`${timestamp}.${body}`).digest("hex")
    }`;
    const left = failures.get(path) ?? 0;
    if (left > 0) failures.set(path, left - 1);
    const status = left > 0 ? 500 : 200;
    posts.push({
      path,
      body,
      json: JSON.parse(body),
      alertId: req.headers.get("x-recondo-alert-id"),
      attempt: Number(req.headers.get("x-recondo-delivery-attempt")),
      signatureValid: req.headers.get("x-recondo-signature") === expected,
      status,
    });
    return new Response(status === 200 ? "ok" : "try later", { status });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    posts,
    accepted: (path) => posts.filter((p) => p.path === path && p.status === 200),
    async waitFor(predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(posts)) {
        if (Date.now() > deadline) {
          const seen = posts.map((p) => `${p.path} ${p.status} ${p.json.kind} ${p.json.threshold}`);
          throw new Error(`Webhook posts never matched; received: ${JSON.stringify(seen)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => server.shutdown(),
  };
}
