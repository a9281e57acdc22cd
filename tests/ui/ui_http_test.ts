/**
 * The UI on the gateway's own port, over HTTP as a browser would use it: login, who may change what
 * (checked on the server), CSRF, and edits that the running gateway applies to the very next request.
 */
import assert from "node:assert/strict";
import { ADMIN, seedToolSession, startUiStack, VIEWER } from "./stack.ts";
import { chainVersion, loginOverHttp } from "./http_session.ts";
import { writeHeartbeat } from "../../storage/fleet/gateways.ts";
import { usd } from "../../components/format.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const ALICE = { name: "alice", team: "platform", token: "alice-token-123" };

function anthropicRequest(client: Deno.HttpClient): Promise<Response> {
  return fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    client,
    headers: { "content-type": "application/json", "x-api-key": "sk-ant-test" },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
    }),
  });
}

Deno.test({
  name: "pages need a login, a wrong password is refused, and every response carries the secure headers",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack();
    try {
      const anonymous = await fetch(`${stack.url}/sessions?team=x`, { redirect: "manual" });
      await anonymous.body?.cancel();
      assert.equal(anonymous.status, 303);
      assert.equal(anonymous.headers.get("location"), "/login?next=%2Fsessions%3Fteam%3Dx");
      await assert.rejects(loginOverHttp(stack.url, ADMIN.name, "wrong-password"), /refused with status 401/);
      const session = await loginOverHttp(stack.url, ADMIN.name, ADMIN.password);
      const page = await session.get("/");
      await page.body?.cancel();
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
      assert.equal(page.headers.get("x-frame-options"), "DENY");
      assert.equal(page.headers.get("cache-control"), "no-store");
      const anonymousPost = await fetch(`${stack.url}/policies`, { method: "POST", body: "" });
      await anonymousPost.body?.cancel();
      assert.equal(anonymousPost.status, 401);
    } finally {
      await stack.close();
    }
  },
});

Deno.test({
  name: "the bootstrap token logs in as admin only while no account exists, and its file is private",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack();
    try {
      const file = `${stack.dataDir}/ui-bootstrap-token`;
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
      const token = (await Deno.readTextFile(file)).trim();
      // The stack has already created accounts, so the token no longer works.
      await assert.rejects(loginOverHttp(stack.url, "", token), /refused with status 401/);
      await stack.db.run("DELETE FROM ui_users");
      const session = await loginOverHttp(stack.url, "", token);
      const html = await (await session.get("/policies")).text();
      assert.match(html, /bootstrap <span class="role admin">admin<\/span>/);
    } finally {
      await stack.close();
    }
  },
});

Deno.test({
  name: "a viewer reads every page but the server refuses its changes, even with a valid CSRF token",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack({ policies: [{ use: "block-list", options: { teams: ["nobody"] } }] });
    try {
      const viewer = await loginOverHttp(stack.url, VIEWER.name, VIEWER.password);
      for (
        const path of [
          "/",
          "/live",
          "/sessions",
          "/policies",
          "/budgets",
          "/teams",
          "/events",
          "/integrity",
          "/audit",
          "/gateways",
        ]
      ) {
        const res = await viewer.get(path);
        await res.body?.cancel();
        assert.equal(res.status, 200, path);
      }
      const before = await Deno.readTextFile(stack.configFile);
      const version = await chainVersion(viewer);
      const res = await viewer.post("/policies", { action: "toggle", index: "0", version });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /viewer role cannot change anything/);
      const teams = await viewer.post("/teams", { action: "add", name: "mallory", team: "x" });
      assert.equal(teams.status, 403);
      await teams.body?.cancel();
      assert.equal(await Deno.readTextFile(stack.configFile), before);
      assert.equal(stack.gateway.config().policies[0].enabled, true);
      assert.equal((await stack.db.query("SELECT * FROM ui_audit")).length, 0);
    } finally {
      await stack.close();
    }
  },
});

Deno.test({
  name: "a change without the session's CSRF token, or from another origin, is refused",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack({ policies: [{ use: "block-list", options: {} }] });
    try {
      const admin = await loginOverHttp(stack.url, ADMIN.name, ADMIN.password);
      const version = await chainVersion(admin);
      const wrong = await admin.post("/policies", { action: "toggle", index: "0", version, _csrf: "forged" });
      assert.equal(wrong.status, 403);
      assert.match(await wrong.text(), /CSRF token missing or wrong/);
      const crossSite = await admin.post("/policies", { action: "toggle", index: "0", version }, {
        origin: "https://evil.example",
      });
      assert.equal(crossSite.status, 403);
      await crossSite.body?.cancel();
      assert.equal(stack.gateway.config().policies[0].enabled, true);
      const right = await admin.post("/policies", { action: "toggle", index: "0", version });
      await right.body?.cancel();
      assert.equal(right.status, 303);
      assert.equal(stack.gateway.config().policies[0].enabled, false);
    } finally {
      await stack.close();
    }
  },
});

Deno.test({
  name: "editing a team's cap on the Budgets page makes the gateway block that team's very next request",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack({
      developers: [ALICE],
      policies: [{
        use: "spend-cap",
        options: { budgets: [{ scope: "team:platform", usd: 100, period: "day" }] },
      }],
    });
    const client = stack.proxyClient(ALICE.name, ALICE.token);
    try {
      const first = await anthropicRequest(client);
      assert.equal(first.status, 200, await first.text());
      const admin = await loginOverHttp(stack.url, ADMIN.name, ADMIN.password);
      const page = await (await admin.get("/budgets")).text();
      assert.match(page, /team:platform/);
      const saved = await admin.post("/budgets", {
        entry: "0",
        budget: "0",
        scope: "team:platform",
        usd: "0.000001",
      });
      assert.equal(saved.status, 303, await saved.text());
      const blocked = await anthropicRequest(client);
      const body = await blocked.json();
      assert.equal(blocked.status, 400);
      assert.match(body.error.message, /spend cap.*team:platform/);
      const config = JSON.parse(await Deno.readTextFile(stack.configFile));
      assert.equal(config.policies[0].options.budgets[0].usd, 0.000001);
      const [audit] = await stack.db.query("SELECT * FROM ui_audit");
      assert.equal(audit.actor, ADMIN.name);
      assert.match(String(audit.action), /cap team:platform 100 → 0.000001 USD/);
      assert.match(String(audit.before_value), /"usd":100/);
      const [version] = await stack.db.query("SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1");
      assert.equal(version.author, ADMIN.name);
    } finally {
      client.close();
      await stack.close();
    }
  },
});

Deno.test({
  name: "invalid options are refused with the field's message, and nothing is saved",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack({ policies: [{ use: "block-list", options: {} }] });
    try {
      const admin = await loginOverHttp(stack.url, ADMIN.name, ADMIN.password);
      const version = await chainVersion(admin);
      const res = await admin.post("/policies", {
        action: "options",
        index: "0",
        version,
        "o.status": "200",
        "o.teams": "contractors",
        timeoutMs: "2000",
      });
      assert.equal(res.status, 422);
      const html = await res.text();
      assert.match(
        html,
        /id="p0-status-err" class="error" role="alert">Too small: expected number to be >=400/,
      );
      assert.match(html, /contractors<\/textarea>/, "the submitted values are kept in the form");
      assert.deepEqual(stack.gateway.config().policies[0].options, {});
    } finally {
      await stack.close();
    }
  },
});

Deno.test({
  name:
    "the session page shows each turn's prompt, thinking, tool calls with arguments, tool results and response",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack();
    try {
      const id = await seedToolSession(stack);
      const viewer = await loginOverHttp(stack.url, VIEWER.name, VIEWER.password);
      const html = await (await viewer.get(`/sessions/${id}`)).text();
      assert.match(html, /fix the failing parser test/);
      assert.match(html, /<strong>Bash<\/strong>/);
      assert.match(html, /deno test parser_test.ts/);
      assert.match(html, /FAILED parser_test.ts: off by one at line 42/);
      assert.match(html, /<strong>Bash<\/strong> toolu_01 \(error\)/, "a result names the tool it answers");
      assert.match(html, /<strong>Edit<\/strong>/);
      assert.match(html, /All tests pass/);
      assert.match(html, /<h3>Thinking<\/h3>/);
      assert.match(html, /the loop runs one step too far/);
      const list = await (await viewer.get("/sessions?q=off%20by%20one")).text();
      assert.match(list, new RegExp(`/sessions/${id}`));
      const none = await (await viewer.get("/sessions?q=no-such-text-anywhere")).text();
      assert.match(none, /No sessions match/);
      const [turn] = await stack.db.query("SELECT id FROM turns WHERE session_id = $1 ORDER BY seq", [id]);
      const turnPage = await (await viewer.get(`/turns/${turn.id}?verify=1`)).text();
      assert.equal(turnPage.match(/✓ stored bytes match/g)?.length, 2);
      assert.match(turnPage, /class="event-name">message_start/);
    } finally {
      await stack.close();
    }
  },
});

Deno.test({
  name: "simulate shows what enabling a disabled policy would have done to the captured traffic",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack({
      developers: [ALICE],
      policies: [{ use: "block-list", enabled: false, options: { teams: ["platform"] } }],
    });
    const client = stack.proxyClient(ALICE.name, ALICE.token);
    try {
      const res = await anthropicRequest(client);
      assert.equal(res.status, 200, await res.text());
      const deadline = Date.now() + 5_000;
      while ((await stack.db.query("SELECT id FROM exchanges")).length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const viewer = await loginOverHttp(stack.url, VIEWER.name, VIEWER.password);
      const page = await viewer.get("/policies/simulate?index=0&days=1");
      const html = await page.text();
      assert.equal(page.status, 200, html);
      assert.match(html, /Replayed 1 captured exchanges/);
      assert.match(html, /<td>blocked<\/td><td>block-list<\/td><td class="num">1<\/td>/);
      assert.equal(stack.gateway.config().policies[0].enabled, false, "simulating changes nothing");
    } finally {
      client.close();
      await stack.close();
    }
  },
});

Deno.test({
  name: "issuing credentials shows the HTTPS_PROXY line once and the gateway accepts it; revoking refuses it",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack({
      requireProxyAuth: true,
      developers: [{ name: "carol", team: "web" }],
    });
    try {
      const admin = await loginOverHttp(stack.url, ADMIN.name, ADMIN.password);
      const issued = await (await admin.post("/teams", { action: "issue", name: "carol" })).text();
      const line = issued.match(/export HTTPS_PROXY=(http:\/\/carol:([^@]+)@127\.0\.0\.1:\d+)/);
      assert.ok(line, "the page shows the proxy line with the new token");
      const token = decodeURIComponent(line[2]);
      const client = stack.proxyClient("carol", token);
      assert.equal((await anthropicRequest(client)).status, 200);
      const written = await Deno.readTextFile(stack.configFile);
      assert.ok(!written.includes(token), "the config file keeps no proxy token in clear");
      assert.match(JSON.parse(written).developers[0].tokenHash, /^[0-9a-f]{64}$/);
      const moved = await admin.post("/teams", { action: "team", name: "carol", team: "platform" });
      await moved.body?.cancel();
      assert.equal(stack.gateway.config().developers[0].team, "platform");
      const revoked = await admin.post("/teams", { action: "revoke", name: "carol" });
      await revoked.body?.cancel();
      client.close();
      const again = stack.proxyClient("carol", token);
      await assert.rejects(
        anthropicRequest(again),
        (e) => /proxy authentication required/.test(String((e as Error).cause)),
      );
      again.close();
      const actions = (await stack.db.query("SELECT action FROM ui_audit ORDER BY at")).map((r) => r.action);
      assert.deepEqual(actions, [
        "issue proxy credentials for carol",
        "move carol from team web to platform",
        "revoke proxy credentials of carol",
      ]);
      const audit = JSON.stringify(await stack.db.query("SELECT * FROM ui_audit"));
      assert.ok(!audit.includes(token), "the audit keeps before/after without the token itself");
      assert.match(audit, /\\"token\\":\\"\(set\)\\"/);
    } finally {
      await stack.close();
    }
  },
});

Deno.test({
  name: "the Gateways page shows each gateway's status, chain version and why it could not apply a newer one",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack();
    try {
      const now = Date.now();
      const beat = {
        host: "host-1",
        listen: "0.0.0.0:8443",
        version: "0.3.0",
        pid: 1,
        startedAt: now - 60_000,
        inFlight: 3,
        captureBacklog: 7,
        draining: false,
      };
      await writeHeartbeat(stack.db, { ...beat, id: "gw-up", chainVersion: 4, chainError: null }, now);
      await writeHeartbeat(
        stack.db,
        { ...beat, id: "gw-behind", chainVersion: 3, chainError: "Cannot load policy policies[0]: boom" },
        now,
      );
      await writeHeartbeat(
        stack.db,
        { ...beat, id: "gw-lost", chainVersion: 4, chainError: null },
        now - 120_000,
      );
      const viewer = await loginOverHttp(stack.url, VIEWER.name, VIEWER.password);
      const html = await (await viewer.get("/gateways")).text();
      const row = (id: string) => html.match(new RegExp(`<tr><td>${id}.*?</tr>`, "s"))?.[0] ?? "";
      assert.match(row("gw-up"), /class="status up">up</);
      assert.match(row("gw-up"), /v4/);
      assert.match(row("gw-behind"), /cannot apply the newest chain: Cannot load policy policies\[0\]: boom/);
      assert.match(row("gw-lost"), /class="status lost">lost</);
      assert.match(row("gw-up"), /<td class="num">3<\/td><td class="num">7<\/td>/);
    } finally {
      await stack.close();
    }
  },
});

Deno.test({
  name: "the turn page shows OpenRouter's reported cost beside the computed one",
  ...SANITIZE,
  async fn() {
    const stack = await startUiStack({ developers: [ALICE], intercept: ["openrouter.ai"] });
    const client = stack.proxyClient(ALICE.name, ALICE.token);
    try {
      const res = await fetch("https://openrouter.ai/api/v1/chat/completions", {
        method: "POST",
        client,
        headers: { "content-type": "application/json", authorization: "Bearer sk-or-v1-test" },
        body: JSON.stringify({
          model: "anthropic/claude-sonnet-4.5",
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      assert.equal(res.status, 200);
      await res.text();
      const deadline = Date.now() + 5_000;
      let turns: Record<string, unknown>[] = [];
      while (turns.length === 0 && Date.now() < deadline) {
        turns = await stack.db.query("SELECT id, cost_usd, provider_reported_cost_usd FROM turns");
        if (turns.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(turns.length, 1);
      // The stack's fake reports 1,200 input and 80 output tokens; OpenRouter's cost is $1 and $4 per Mtok.
      assert.equal(turns[0].provider_reported_cost_usd, (1200 + 80 * 4) / 1e6);
      const viewer = await loginOverHttp(stack.url, VIEWER.name, VIEWER.password);
      const page = await (await viewer.get(`/turns/${turns[0].id}`)).text();
      assert.match(page, /anthropic\/claude-sonnet-4\.5 \(openrouter, openai\.chat_completions\)/);
      assert.ok(page.includes(`${usd(Number(turns[0].cost_usd))} (provider reported $0.0015)`), page);
    } finally {
      await stack.close();
    }
  },
});
