import assert from "node:assert/strict";
import { fetchWithFallback } from "./fallback.ts";

function answers(table: Record<string, number | Error>) {
  const calls: string[] = [];
  const send = (origin: string) => {
    calls.push(origin);
    const a = table[origin];
    return a instanceof Error
      ? Promise.reject(a)
      : Promise.resolve(new Response(`from ${origin}`, { status: a }));
  };
  return { calls, send };
}

Deno.test("fallback tries the next origin on 429 and 5xx and keeps the first good answer", async () => {
  const { calls, send } = answers({ "https://a": 429, "https://b": 503, "https://c": 200, "https://d": 200 });
  const result = await fetchWithFallback(["https://a", "https://b", "https://c", "https://d"], send);
  assert.equal(result.origin, "https://c");
  assert.equal(await result.response.text(), "from https://c");
  assert.deepEqual(result.attempts, [{ origin: "https://a", status: 429 }, {
    origin: "https://b",
    status: 503,
  }]);
  assert.deepEqual(calls, ["https://a", "https://b", "https://c"]);
});

Deno.test("fallback does not retry a client error and passes the last origin's failure through", async () => {
  const bad = answers({ "https://a": 400, "https://b": 200 });
  assert.equal((await fetchWithFallback(["https://a", "https://b"], bad.send)).response.status, 400);
  const down = answers({ "https://a": new Error("refused"), "https://b": 502 });
  const result = await fetchWithFallback(["https://a", "https://b"], down.send);
  assert.equal(result.response.status, 502);
  assert.deepEqual(result.attempts, [{ origin: "https://a", error: "refused" }]);
  const gone = answers({ "https://a": 500, "https://b": new Error("reset") });
  await assert.rejects(fetchWithFallback(["https://a", "https://b"], gone.send), /reset/);
});
