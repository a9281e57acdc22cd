/**
 * Drain under h2 clients that reuse their connection: Deno's own fetch (hyper) negotiates h2 through the
 * gateway and sends each next request on the same connection as soon as the previous one ends. Without a
 * GOAWAY such a request raced the connection's close into "stream closed because of a broken pipe".
 */
import assert from "node:assert/strict";
import { startTestGateway } from "./support/gateway.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const CLIENTS = 10;
const ANSWER = ["alpha ", "beta ", "gamma ", "delta"];

/** How one request ended: a complete answer, a refused connection (expected once drained), or else. */
type Outcome = "complete" | "refused" | `failed: ${string}`;

Deno.test({
  name: "while draining, h2 clients finish every stream they started and then leave for a new connection",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider({ behavior: { answer: ANSWER, eventDelayMs: 80 } });
    const gateway = await startTestGateway({ overrides: { "api.anthropic.com": fake.url } });
    const clients = Array.from(
      { length: CLIENTS },
      () => Deno.createHttpClient({ caCerts: [gateway.caPem], proxy: { url: gateway.proxyUrl } }),
    );
    try {
      const outcomes: Outcome[][] = clients.map(() => []);
      const runs = clients.map(async (client, i) => {
        // Staggered, and odd clients pause between requests, so that at drain time most clients are
        // mid-stream (the next request follows the moment a stream ends) and some are idle.
        await sleep(i * 70);
        for (let n = 0; n < 20; n++) {
          const outcome = await streamOnce(client);
          outcomes[i].push(outcome);
          if (outcome !== "complete") return;
          if (i % 2 === 1) await sleep(250);
        }
      });
      // Drain once every client has a connection that served a stream (a fixed delay is not enough on a
      // loaded machine), and a moment later so most are mid-stream again.
      const deadline = Date.now() + 30_000;
      while (outcomes.some((list) => !list.includes("complete"))) {
        assert.ok(Date.now() < deadline, `clients without a completed stream: ${JSON.stringify(outcomes)}`);
        await sleep(20);
      }
      await sleep(200);
      const inFlightAtDrain = gateway.inFlight();
      const drained = await gateway.drain({ graceMs: 30_000 });
      await Promise.all(runs);

      const counts: Record<string, number> = {};
      for (const outcome of outcomes.flat()) counts[outcome] = (counts[outcome] ?? 0) + 1;
      const failed = Object.keys(counts).filter((outcome) => outcome.startsWith("failed"));
      assert.deepEqual(
        failed,
        [],
        `requests failed other than by a refused connection: ${JSON.stringify(counts)}`,
      );
      for (const [i, list] of outcomes.entries()) {
        assert.ok(list.includes("complete"), `client ${i} completed nothing: ${list}`);
        assert.equal(list.at(-1), "refused", `client ${i} ended on ${list.at(-1)}`);
      }
      assert.ok(inFlightAtDrain >= CLIENTS / 2, `only ${inFlightAtDrain} streams were in flight at drain`);
      assert.deepEqual(drained, { completed: true, abandoned: 0 });
    } finally {
      for (const client of clients) client.close();
      await gateway.close();
      await fake.close();
    }
  },
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One streamed Messages request, read to its end. */
async function streamOnce(client: Deno.HttpClient): Promise<Outcome> {
  let text: string;
  try {
    const response = await fetch("https://api.anthropic.com/v1/messages", {
      method: "POST",
      client,
      headers: { "content-type": "application/json", "x-api-key": "sk-ant-test" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", stream: true, messages: [] }),
    });
    text = await response.text();
    if (response.status !== 200) return `failed: status ${response.status}`;
  } catch (error) {
    // fetch says "fetch failed"; what failed is in the cause chain.
    let message = "";
    for (let e: unknown = error; e instanceof Error; e = e.cause) message += `${e.message}; `;
    return /connect/i.test(message) && /refused/i.test(message) ? "refused" : `failed: ${message}`;
  }
  const deltas = [...text.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]);
  if (deltas.join("") !== ANSWER.join("") || !text.includes("event: message_stop")) {
    return `failed: incomplete body (${text.length} bytes)`;
  }
  return "complete";
}
