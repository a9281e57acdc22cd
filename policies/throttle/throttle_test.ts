import assert from "node:assert/strict";
import { openSqlite } from "../../storage/db/sqlite.ts";
import { migrate } from "../../storage/db/migrate.ts";
import { createSqlRateLimiter } from "../../storage/ledger/sql_rate_limiter.ts";
import type { ParsedResponse } from "../../providers/mod.ts";
import { makeExchange, makeHookContext } from "../testing.ts";
import type { RateLimiter } from "./buckets.ts";
import { throttle } from "./throttle.ts";

async function withLimiter(fn: (limiter: RateLimiter) => Promise<void>) {
  const db = openSqlite(":memory:");
  await migrate(db);
  try {
    await fn(createSqlRateLimiter(db));
  } finally {
    await db.close();
  }
}

const turn = (developer = "alice", provider: "anthropic" | "openai" = "anthropic") =>
  provider === "anthropic"
    ? makeExchange({
      api: "anthropic.messages",
      json: { model: "claude-sonnet-4-5", messages: [] },
      developer,
    })
    : makeExchange({
      host: "api.openai.com",
      path: "/v1/responses",
      api: "openai.responses",
      json: { model: "gpt-5", input: "hi" },
      developer,
    });

Deno.test("throttle answers 429 with retry-after in seconds once the requests per minute are used", () =>
  withLimiter(async (limiter) => {
    let now = 0;
    const ctx = makeHookContext(() => now);
    const policy = throttle.create(
      throttle.options.parse({ limits: [{ scope: "developer:alice", requestsPerMinute: 2 }] }),
      { rateLimiter: limiter },
    );
    for (let i = 0; i < 2; i++) {
      const t = turn();
      assert.equal((await policy.onRequest!(t.exchange, t.request, ctx)).kind, "allow");
    }
    const t = turn();
    const verdict = await policy.onRequest!(t.exchange, t.request, ctx);
    assert.equal(verdict.kind, "block");
    if (verdict.kind !== "block") return;
    assert.deepEqual([verdict.status, verdict.errorKind, verdict.headers], [429, "rate_limited", {
      "retry-after": "30",
    }]);
    assert.equal(
      verdict.reason,
      "Recondo throttle: developer:alice is limited to 2 requests per minute; try again in 30 s.",
    );
    const bob = turn("bob");
    assert.equal((await policy.onRequest!(bob.exchange, bob.request, ctx)).kind, "allow");
    now = 30_000;
    assert.equal((await policy.onRequest!(t.exchange, t.request, ctx)).kind, "allow");
  }));

Deno.test("throttle charges the tokens a turn really used and holds the next request until they refill", () =>
  withLimiter(async (limiter) => {
    let now = 0;
    const ctx = makeHookContext(() => now);
    const policy = throttle.create(
      throttle.options.parse({ limits: [{ scope: "team:*", tokensPerMinute: 6000 }] }),
      { rateLimiter: limiter },
    );
    const first = makeExchange({
      api: "openai.responses",
      host: "api.openai.com",
      json: { input: "x" },
      team: "a",
    });
    assert.equal((await policy.onRequest!(first.exchange, first.request, ctx)).kind, "allow");
    const usage = { input: 9000, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0, output: 3000, reasoning: 0 };
    const parsed = { usage: { ...usage, estimated: false } } as ParsedResponse;
    await policy.onEnd!(first.exchange, parsed, ctx);
    const next = makeExchange({
      api: "openai.responses",
      host: "api.openai.com",
      json: { input: "y" },
      team: "a",
    });
    const verdict = await policy.onRequest!(next.exchange, next.request, ctx);
    assert.equal(verdict.kind, "block");
    if (verdict.kind === "block") assert.equal(verdict.headers?.["retry-after"], "61"); // -6000 → 1 at 100/s
    now = 61_000;
    assert.equal((await policy.onRequest!(next.exchange, next.request, ctx)).kind, "allow");
  }));

Deno.test("throttle leaves auxiliary calls alone and rejects a limit without a rate", async () => {
  await withLimiter(async (limiter) => {
    const policy = throttle.create(
      throttle.options.parse({ limits: [{ scope: "global", requestsPerMinute: 1 }] }),
      { rateLimiter: limiter },
    );
    const aux = makeExchange({ api: "anthropic.count_tokens", path: "/v1/messages/count_tokens" });
    for (let i = 0; i < 3; i++) {
      assert.equal((await policy.onRequest!(aux.exchange, aux.request, makeHookContext())).kind, "allow");
    }
  });
  assert.equal(throttle.options.safeParse({ limits: [{ scope: "global" }] }).success, false);
  assert.equal(
    throttle.options.safeParse({
      limits: [{ scope: "developer:alice", requestsPerMinute: 60, tokensPerMinute: 200000 }],
    }).success,
    true,
  );
});
