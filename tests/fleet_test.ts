/**
 * The fleet end to end: three `recondo serve` replicas on one PostgreSQL and one Ceph RGW bucket behind
 * haproxy (TCP mode, health-checked), sharing one config file, one CA and one HMAC key. One fleet serves
 * every step (Ceph alone takes ~10 s to start); each step leaves the fleet whole for the next:
 *
 * 1. a real Claude Code run, inside `unshare -n`, goes through the balancer and is captured once in the
 *    shared database with its bodies in the shared bucket;
 * 2. a spend cap holds exactly across the three replicas under a concurrent burst through the balancer;
 * 3. with strict durability, one replica killed with SIGKILL mid-burst loses nothing a client saw
 *    complete and records nothing twice, once it is restarted on its own data dir;
 * 4. `recondo verify --all` over the shared stores is clean.
 *
 * The control-plane and drain tests build on the same `startFleet` (tests/support/fleet.ts).
 */
import { readBody } from "../storage/bodies/read.ts";
import { openS3ObjectStore, s3OptionsFromEnv } from "../storage/objects/s3.ts";
import { sha256Hex } from "../storage/objects/content.ts";
import assert from "node:assert/strict";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import pg from "pg";
import { estimateRequestCostCeiling } from "../providers/mod.ts";
import { currentBudgets } from "../storage/ledger/mod.ts";
import { runViaSocket } from "./agents/run_via_socket.ts";
import { requireAgents } from "./agents/scenarios.ts";
import { type Fleet, startFleet } from "./support/fleet.ts";
import { requireHaproxy } from "./support/haproxy.ts";
import { requirePostgres } from "./support/postgres.ts";
import { requireS3 } from "./support/s3.ts";
import { loginOverHttp } from "./ui/http_session.ts";
import { upsertUser } from "../storage/ui/users.ts";
import { hashPassword } from "../ui/password.ts";

const ALICE = "alice:alice-secret-token";

/** The spend-cap burst: every request reserves exactly this ceiling, and the fake charges exactly it. */
const SPEND_BODY = JSON.stringify({
  model: "claude-sonnet-4-5",
  max_tokens: 2000,
  stream: true,
  messages: [{ role: "user", content: "fleet spend cap: summarise the design document in three lines." }],
});
const CEILING_USD = estimateRequestCostCeiling({
  provider: "anthropic",
  model: "claude-sonnet-4-5",
  requestBytes: SPEND_BODY.length,
  maxOutputTokens: 2000,
  at: new Date(),
}).usd!;
/** Requests the budget admits; the burst sends three times as many. */
const K = 6;
/** Half a ceiling of slack, so rounding cannot admit K+1 or refuse the K-th. */
const CAP_USD = CEILING_USD * (K + 0.5);

/** The shared config every replica reads. */
const CONFIG = {
  developers: [{ name: "alice", team: "alpha", token: "alice-secret-token" }],
  policies: [{
    use: "spend-cap",
    options: { budgets: [{ scope: "team:alpha", usd: CAP_USD, period: "day" }] },
    timeoutMs: 20_000,
  }],
  // Strict: a stream's last bytes wait until its record is durable in the replica's journal (step 3).
  capture: { durability: "strict" },
  // Polling is slow on purpose: a chain applied within a second got there by NOTIFY. Heartbeats are fast
  // so fleet status can be checked without long waits.
  fleet: { pollSeconds: 60, heartbeatSeconds: 1, lostAfterSeconds: 3 },
  shutdownGraceSeconds: 60,
};

const timings: Record<string, number> = {};

async function timed(
  t: Deno.TestContext,
  name: string,
  fn: () => Promise<void>,
): Promise<void> {
  await t.step({
    name,
    fn: async () => {
      const started = performance.now();
      try {
        await fn();
      } finally {
        timings[name] = Math.round(performance.now() - started);
      }
    },
  });
}

/** An Anthropic streaming request's body with `prompt` as its only user message. */
function messagesBody(prompt: string): string {
  return JSON.stringify({
    model: "claude-sonnet-4-5",
    stream: true,
    max_tokens: 64,
    messages: [{ role: "user", content: prompt }],
  });
}

async function postMessages(
  client: Deno.HttpClient,
  body: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    client,
    headers: {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "x-api-key": "sk-ant-api03-fleet-test",
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** The fleet log tails, for assertion messages. */
function logs(fleet: Fleet): string {
  return fleet.gateways.map((g) => `--- ${g.name}\n${g.logTail().slice(-15).join("\n")}`).join("\n");
}

async function claudeThroughTheBalancer(fleet: Fleet): Promise<void> {
  fleet.fake.setBehavior({ answer: ["RECONDO-", "FAKE-", "OK"], eventDelayMs: 10 });
  const marker = `fleet-claude-${crypto.randomUUID().slice(0, 8)}`;
  const before = await fleet.balancer.servedConnections();
  const run = await runViaSocket({
    socket: fleet.balancer.unixPath!,
    caFile: fleet.caFile,
    prompt: `${marker}: reply with the single word OK.`,
    timeoutSec: 60,
  });
  const detail = `${JSON.stringify(run, null, 2)}\n${logs(fleet)}`;
  assert.equal(run.timedOut, false, `claude timed out:\n${detail}`);
  assert.equal(run.exitCode, 0, `claude failed:\n${detail}`);
  assert.ok(run.stdout.includes("RECONDO-FAKE-OK"), `claude did not print the fake's answer:\n${detail}`);
  assert.ok(run.bridgedConnections > 0, "claude did not use the proxy");
  const after = await fleet.balancer.servedConnections();
  const served = Object.keys(after).reduce((n, name) => n + after[name] - (before[name] ?? 0), 0);
  assert.ok(served >= run.bridgedConnections, `haproxy carried ${served} connections`);

  // Every model request the fake saw (relayed: Host is the real provider's) is one turn, exactly once.
  const modelRequests = fleet.fake.requests.filter((r) =>
    r.method === "POST" && r.path.startsWith("/v1/messages") && r.host === "api.anthropic.com" &&
    new TextDecoder().decode(r.body).includes(marker)
  );
  assert.ok(modelRequests.length >= 1, `the fake saw no model request from claude:\n${detail}`);
  const like = `%${marker}%`;
  await fleet.waitForTurns(modelRequests.length, "prompt LIKE $1", [like]);
  const turns = await fleet.db.query<
    { exchange_id: string; request_sha256: string; response_sha256: string }
  >(
    "SELECT exchange_id, request_sha256, response_sha256 FROM turns WHERE prompt LIKE $1",
    [like],
  );
  assert.equal(turns.length, modelRequests.length, "each model request is captured once");
  assert.equal(new Set(turns.map((t) => t.exchange_id)).size, turns.length);

  // The bodies are in the shared bucket, content-addressed: a small one inside its write batch's pack, a
  // large one whole, a long request as segments in packs (storage/bodies/); each object a body relies on
  // is in the bucket, and each body reads back to its exact recorded hash.
  const objects = openS3ObjectStore({
    ...s3OptionsFromEnv({ get: (name) => fleet.storeEnv[name] }),
    credentials: fleet.s3.credentials,
  });
  try {
    for (const t of turns) {
      const [row] = await fleet.db.query<{ sha256: string; pack_sha256: string | null }>(
        "SELECT sha256, pack_sha256 FROM stored_objects WHERE sha256 = $1",
        [t.response_sha256],
      );
      const key = row?.pack_sha256 ?? t.response_sha256;
      const head = await fleet.s3.client.send(
        new HeadObjectCommand({ Bucket: fleet.bucket, Key: `objects/${key.slice(0, 2)}/${key}.gz` }),
      );
      assert.ok((head.ContentLength ?? 0) > 0, `object ${key} of response ${t.response_sha256} is empty`);
      for (const sha of [t.request_sha256, t.response_sha256]) {
        const body = await readBody(fleet.db, objects, sha);
        assert.ok(body, `body ${sha} cannot be read back from the bucket`);
        assert.equal(sha256Hex(body), sha);
      }
    }
  } finally {
    await objects.close();
  }
  for (const g of fleet.gateways) {
    const local = await Deno.stat(`${g.dataDir}/objects`).then(() => true, () => false);
    assert.equal(local, false, `${g.name} stored objects in its data dir instead of S3`);
  }
}

async function spendCapAcrossReplicas(fleet: Fleet): Promise<void> {
  // The fake charges exactly the reserved ceiling, so a settled request frees nothing for a later one.
  const inputTokens = Math.ceil(SPEND_BODY.length / 4);
  fleet.fake.setBehavior({
    answer: ["one ", "two ", "three"],
    eventDelayMs: 100,
    usage: { input: inputTokens, output: 2000 },
  });
  const seenBefore = fleet.fake.requests.length;
  const before = await fleet.balancer.servedConnections();
  // One client per request: each is its own connection, so round-robin spreads them over the replicas.
  const responses = await Promise.all(
    Array.from({ length: 3 * K }, () => postMessages(fleet.client({ proxyAuth: ALICE }), SPEND_BODY)),
  );
  const after = await fleet.balancer.servedConnections();
  for (const g of fleet.gateways) {
    assert.ok(
      after[g.name] - before[g.name] >= K - 1,
      `the burst did not reach ${g.name}: ${JSON.stringify(after)}`,
    );
  }
  const passed = responses.filter((r) => r.status === 200);
  const refused = responses.filter((r) => r.status === 400);
  assert.equal(passed.length, K, `statuses ${responses.map((r) => r.status)}\n${logs(fleet)}`);
  assert.equal(refused.length, 2 * K);
  assert.ok(passed.every((r) => r.text.includes("message_stop")));
  assert.ok(
    refused.every((r) =>
      /Recondo spend cap: the day budget of \$[\d.]+ for team:alpha is used up/.test(r.text)
    ),
  );
  assert.equal(fleet.fake.requests.length - seenBefore, K, "only admitted requests reach the provider");

  // The ledger agrees: K ceilings spent, nothing left reserved, never over the cap.
  const row = await fleet.waitFor("the spend reservations to settle", async () => {
    const [budget] = await currentBudgets(fleet.db, Date.now());
    return budget?.reservedMicros === 0 ? budget : undefined;
  });
  assert.equal(row.scope, "team:alpha");
  assert.ok(row.spentMicros <= CAP_USD * 1e6, `spent ${row.spentMicros} micro-USD is over the cap`);
  assert.ok(
    Math.abs(row.spentMicros - K * CEILING_USD * 1e6) <= K,
    `spent ${row.spentMicros}, expected ${K} ceilings`,
  );
  // And capture saw each admitted turn once (refusals are exchanges without a turn).
  assert.equal(await fleet.waitForTurns(K, "team = 'alpha' AND status = 200"), K);
}

const PARTS = Array.from({ length: 8 }, (_, i) => `part-${i} `);

/**
 * 12 lanes stream continuously through the balancer (one connection each, as an agent keeps one); gw1 is
 * killed with SIGKILL while streams run on it. A lane whose stream was cut retries through the balancer
 * with a new prompt (`attempt` bumps), as an agent would, landing on a live replica.
 *
 * So that the kill really depends on the journal, the test holds a lock on the shared `turns` table from
 * before the kill until after it: every stream that completes meanwhile is durable only in its replica's
 * journal (strict waits for the journal's fsync, not for PostgreSQL), and gw1's share of them exists
 * nowhere else when it dies.
 */
async function crashMidBurst(fleet: Fleet): Promise<void> {
  fleet.fake.setBehavior({ answer: PARTS, eventDelayMs: 15 });
  const victim = fleet.gateways[1];
  const completed: string[] = [];
  const cut: string[] = [];
  let phase: "before" | "after" | "done" = "before";
  const lanes = Array.from({ length: 12 }, async (_, lane) => {
    const client = fleet.client();
    for (let n = 0, attempt = 0; phase !== "done";) {
      const prompt = `fleet crash lane ${lane} request ${n} attempt ${attempt}`;
      const res = await postMessages(client, messagesBody(prompt)).catch(() => null);
      const whole = res?.status === 200 && PARTS.every((p) => res.text.includes(p)) &&
        res.text.includes("message_stop");
      if (whole) {
        completed.push(prompt);
        n++;
        attempt = 0;
      } else {
        cut.push(prompt);
        attempt++;
      }
    }
  });
  const lock = new pg.Client({ connectionString: fleet.dbUrl });
  await lock.connect();
  try {
    await fleet.waitFor("30 completed streams", () => completed.length >= 30);
    // EXCLUSIVE blocks the replicas' inserts but not the test's reads.
    await lock.query("BEGIN");
    await lock.query("LOCK TABLE turns IN EXCLUSIVE MODE");
    const locked = completed.length;
    await fleet.waitFor(
      "30 streams completed while turns are locked",
      () => completed.length >= locked + 30,
    );
    await victim.crash();
    await lock.query("COMMIT");
    phase = "after";
    const atKill = completed.length;
    // haproxy takes the dead replica out of rotation within ~2 check intervals.
    const down = performance.now();
    await fleet.balancer.waitForState({ [victim.name]: "DOWN" }, 2_000);
    timings["crash: gw1 out of rotation"] = Math.round(performance.now() - down);
    // The survivors carry on: every lane completes more requests after the kill.
    await fleet.waitFor(
      "36 more completed streams on the survivors",
      () => completed.length >= atKill + 36,
    );
  } finally {
    phase = "done";
    await lock.end().catch(() => {});
    await Promise.all(lanes);
  }
  assert.ok(cut.length >= 1, "the kill cut no stream: it was not mid-burst");

  // The replica that crashed replays its own journal: it is restarted on its own data dir (as a pod with
  // its volume would be), and replay runs before it answers /healthz. No other replica reads that journal.
  const replay = performance.now();
  await victim.restart();
  timings["crash: gw1 restart and replay"] = Math.round(performance.now() - replay);

  const prompts = () =>
    fleet.db.query<{ prompt: string }>("SELECT prompt FROM turns WHERE prompt LIKE 'fleet crash %'");
  const rows = await fleet.waitFor("every completed stream's turn", async () => {
    const found = await prompts();
    const have = new Set(found.map((r) => r.prompt));
    return completed.every((p) => have.has(p)) ? found : undefined;
  }, {
    describe: async () => {
      const have = new Set((await prompts()).map((r) => r.prompt));
      return `missing ${JSON.stringify(completed.filter((p) => !have.has(p)))} of ${completed.length}`;
    },
  });
  const counts = new Map<string, number>();
  for (const { prompt } of rows) counts.set(prompt, (counts.get(prompt) ?? 0) + 1);
  assert.deepEqual([...counts].filter(([, n]) => n > 1), [], "each exchange is recorded once");
  // The lanes ran on all three replicas with one API key: one keyed hash means one shared HMAC key.
  const hashes = await fleet.db.query<{ h: string }>(
    "SELECT DISTINCT api_key_hash AS h FROM turns WHERE prompt LIKE 'fleet crash %'",
  );
  assert.equal(
    hashes.length,
    1,
    `one API key, ${hashes.length} keyed hashes: the replicas' HMAC keys differ`,
  );
  // A cut stream may or may not have a record (the journal may hold it); anything else is unexplained.
  const known = new Set([...completed, ...cut]);
  assert.deepEqual([...counts.keys()].filter((p) => !known.has(p)), [], "no record the test did not send");
}

/** The chain version a replica reports on /metrics. */
async function chainVersionOf(fleet: Fleet, index: number): Promise<number> {
  const text = await fleet.gateways[index].metrics();
  return Number(/^recondo_policy_chain_version (\S+)$/m.exec(text)?.[1]);
}

/**
 * `recondo policies publish` once, against the shared database: every replica enforces the new chain
 * within a second (polling is at 60 s here, so the LISTEN/NOTIFY path is what is measured), each checked
 * through its own port rather than the balancer.
 */
async function publishOnceEnforcedEverywhere(fleet: Fleet): Promise<void> {
  fleet.fake.setBehavior({ answer: ["ok"], eventDelayMs: 0 });
  const dir = await Deno.makeTempDir({ prefix: "recondo-fleet-chain-" });
  const file = `${dir}/chain.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({ policies: [{ use: "block-list", options: { models: ["claude-opus-*"] } }] }),
  );
  const before = await chainVersionOf(fleet, 0);
  const published = await fleet.recondo(["policies", "publish", file, "--note", "no opus in the fleet"]);
  const at = performance.now();
  assert.equal(published.code, 0, published.stderr);
  const opus = JSON.stringify({
    model: "claude-opus-4-1",
    max_tokens: 8,
    messages: [{ role: "user", content: "x" }],
  });
  const took = await Promise.all(fleet.gateways.map(async (g, i) => {
    const client = g.client(ALICE);
    await fleet.waitFor(`gw${i} blocks opus`, async () => (await postMessages(client, opus)).status === 400, {
      timeoutMs: 1000,
    });
    return Math.round(performance.now() - at);
  }));
  timings["publish: applied on gw0/gw1/gw2 (ms after the CLI returned)"] = Math.max(...took);
  for (let i = 0; i < fleet.gateways.length; i++) assert.equal(await chainVersionOf(fleet, i), before + 1);
  const sonnet = await postMessages(
    fleet.client({ proxyAuth: ALICE }),
    messagesBody("fleet publish: sonnet"),
  );
  assert.equal(sonnet.status, 200, "other models still pass");
  await Deno.remove(dir, { recursive: true });
}

/**
 * Each replica in turn gets SIGTERM while 20 streams run through the balancer: the draining replica
 * leaves rotation, finishes what it relays and exits 0; it is restarted on its data dir and rejoins.
 * Every stream that started completes, and each is recorded exactly once.
 */
async function rollingRestart(fleet: Fleet): Promise<void> {
  fleet.fake.setBehavior({ answer: PARTS, eventDelayMs: 80 }); // ~0.7 s streams: always some in flight
  const completed: string[] = [];
  const broken: string[] = [];
  let refusedBeforeResponse = 0;
  const refusals = new Set<string>();
  let running = true;
  const lanes = Array.from({ length: 20 }, async (_, lane) => {
    const client = fleet.client();
    for (let n = 0; running; n++) {
      const prompt = `fleet rolling lane ${lane} request ${n}`;
      let res: Response;
      try {
        res = await fetch("https://api.anthropic.com/v1/messages", {
          method: "POST",
          client,
          headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: messagesBody(prompt),
        });
      } catch (error) {
        // No response at all: a connection closed under a request the client had already sent.
        refusedBeforeResponse++;
        refusals.add(String((error as Error).cause ?? error).slice(0, 200));
        continue;
      }
      const text = await res.text().catch(() => "");
      if (res.status === 200 && PARTS.every((p) => text.includes(p)) && text.includes("message_stop")) {
        completed.push(prompt);
      } else broken.push(`${prompt}: ${res.status} ${text.slice(-120)}`);
    }
  });
  const exits: number[] = [];
  try {
    await fleet.waitFor("20 streams completed", () => completed.length >= 20);
    for (const g of fleet.gateways) {
      const inFlight = Number(/^recondo_inflight_exchanges (\S+)$/m.exec(await g.metrics())?.[1] ?? 0);
      const seen = completed.length;
      const stopping = performance.now();
      exits.push(await g.stop());
      timings[`rolling: ${g.name} drained and exited (${inFlight} in flight)`] = Math.round(
        performance.now() - stopping,
      );
      await fleet.balancer.waitForState({ [g.name]: "DOWN" }, 2_000);
      await g.restart();
      await fleet.waitFor(`streams keep completing after ${g.name}`, () => completed.length >= seen + 20);
    }
  } finally {
    running = false;
    await Promise.all(lanes);
  }
  assert.deepEqual(exits, [0, 0, 0], "every replica exits 0 after its drain");
  assert.deepEqual(broken, [], "no stream that got an answer was cut");
  // Drain tells every client in time (h1 `connection: close`, h2 GOAWAY) and haproxy sends new connections
  // to the replicas still listening, so not even a request that never got an answer is expected.
  assert.equal(refusedBeforeResponse, 0, `requests without a response: ${[...refusals].join(" | ")}`);
  const rows = await fleet.waitFor("every completed stream's turn", async () => {
    const found = await fleet.db.query<{ prompt: string }>(
      "SELECT prompt FROM turns WHERE prompt LIKE 'fleet rolling %'",
    );
    const have = new Set(found.map((r) => r.prompt));
    return completed.every((p) => have.has(p)) ? found : undefined;
  });
  assert.equal(rows.length, new Set(rows.map((r) => r.prompt)).size, "each exchange is recorded once");
  assert.equal(rows.length, completed.length, "no record of a request that did not complete");
}

/** A developer an admin adds on gw0's Teams page authenticates at gw1 and gw2 (through their own ports). */
async function developerFromOneUi(fleet: Fleet): Promise<void> {
  fleet.fake.setBehavior({ answer: ["ok"], eventDelayMs: 0 });
  await upsertUser(fleet.db, {
    name: "ops",
    role: "admin",
    passwordHash: await hashPassword("fleet-ui-password"),
  });
  const admin = await loginOverHttp(fleet.gateways[0].directUrl, "ops", "fleet-ui-password");
  const added = await admin.post("/teams", { action: "add", name: "dana", team: "beta" });
  assert.equal(added.status, 303, await added.text());
  const issued = await (await admin.post("/teams", { action: "issue", name: "dana" })).text();
  const token = decodeURIComponent(issued.match(/export HTTPS_PROXY=http:\/\/dana:([^@]+)@/)?.[1] ?? "");
  assert.ok(token, "gw0's Teams page shows the new token once");
  for (const g of fleet.gateways.slice(1)) {
    const client = g.client(`dana:${token}`);
    await fleet.waitFor(`dana authenticates at ${g.name}`, async () => {
      const res = await postMessages(client, messagesBody(`fleet ui developer at ${g.name}`)).catch(() =>
        null
      );
      return res?.status === 200;
    }, { timeoutMs: 1000 });
  }
  const [row] = await fleet.db.query<{ token_hash: string }>(
    "SELECT token_hash FROM developers WHERE name = 'dana'",
  );
  assert.match(row.token_hash, /^[0-9a-f]{64}$/);
  assert.notEqual(row.token_hash, token);
}

/** `recondo fleet status --json` shows the three with their chain version; a killed one turns lost. */
async function fleetStatus(fleet: Fleet): Promise<void> {
  type Row = { id: string; status: string; chainVersion: number | null; chainError: string | null };
  const status = async (): Promise<Row[]> => {
    const out = await fleet.recondo(["fleet", "status", "--json"]);
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout);
  };
  const version = await chainVersionOf(fleet, 0);
  const ids = fleet.gateways.map((g) => `127.0.0.1:${g.port}`);
  const rows = await fleet.waitFor("three gateways up on the same chain", async () => {
    const found = (await status()).filter((r) => ids.some((id) => r.id.endsWith(id.split(":")[1])));
    return found.length === 3 && found.every((r) => r.status === "up" && r.chainVersion === version)
      ? found
      : undefined;
  });
  assert.ok(rows.every((r) => r.chainError === null));
  const victim = fleet.gateways[2];
  await victim.crash();
  const lostAfter = performance.now();
  await fleet.waitFor("the killed gateway shown as lost", async () => {
    const row = (await status()).find((r) => r.id.endsWith(`:${victim.port}`));
    return row?.status === "lost";
  }, { timeoutMs: 10_000 });
  timings["status: killed gateway shown lost after (ms)"] = Math.round(performance.now() - lostAfter);
  await victim.restart();
}

async function verifyIsClean(fleet: Fleet): Promise<void> {
  const [{ n }] = await fleet.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM turns");
  const out = await fleet.recondo(["verify", "--all", "--json"]);
  assert.equal(out.code, 0, `verify failed:\n${out.stdout}\n${out.stderr}`);
  const report = JSON.parse(out.stdout);
  assert.equal(report.ok, true);
  assert.deepEqual(report.problems, []);
  assert.equal(report.checked_turns, Number(n), "verify saw every turn");
  assert.ok(report.checked_objects > 0);
}

Deno.test({
  name: "three gateway replicas behind haproxy share one PostgreSQL and one S3 bucket end to end",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requireHaproxy();
    requirePostgres();
    requireS3();
    const started = performance.now();
    const fleet = await startFleet({ gateways: 3, config: CONFIG, checkPath: "/readyz" });
    timings["start fleet"] = Math.round(performance.now() - started);
    try {
      await timed(
        t,
        "a real Claude Code run through the balancer is captured once, bodies in S3",
        () => {
          requireAgents();
          return claudeThroughTheBalancer(fleet);
        },
      );
      await timed(
        t,
        "a spend cap holds exactly across three replicas under a concurrent burst",
        () => spendCapAcrossReplicas(fleet),
      );
      await timed(
        t,
        "a chain published once is enforced by all three within a second",
        () => publishOnceEnforcedEverywhere(fleet),
      );
      await timed(
        t,
        "a developer added in one gateway's UI authenticates at the other two",
        () => developerFromOneUi(fleet),
      );
      await timed(
        t,
        "rolling restart under 20 streams: every stream completes, each replica exits 0, nothing lost or doubled",
        () => rollingRestart(fleet),
      );
      await timed(
        t,
        "strict: a replica killed mid-burst loses nothing completed and records nothing twice",
        () => crashMidBurst(fleet),
      );
      await timed(
        t,
        "fleet status shows the three on one chain version, and a killed one as lost",
        () => fleetStatus(fleet),
      );
      await timed(t, "verify --all over the shared stores is clean", () => verifyIsClean(fleet));
    } finally {
      const closing = performance.now();
      await fleet.close();
      timings["close fleet"] = Math.round(performance.now() - closing);
      const all = { ...fleet.timings, ...timings };
      console.log(`fleet_test.ts (health check ${fleet.checkPath}) timings in ms: ${JSON.stringify(all)}`);
    }
  },
});
