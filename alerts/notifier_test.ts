import assert from "node:assert/strict";
import { testBothEngines } from "../storage/db/test_engines.ts";
import { claimAlert, leaseDelivery, listAlerts } from "../storage/alerts/alert_store.ts";
import { alertsSchema } from "../config/alerts.ts";
import { startWebhookReceiver } from "../tests/support/webhook_receiver.ts";
import { budgetAlert, crossedThresholds, throttleAlert } from "./payload.ts";
import { retryDelay, startAlertNotifier } from "./notifier.ts";
import { resolveWebhooks } from "./webhooks.ts";

const WINDOW = {
  key: "team:alpha|month|2026-11-01",
  scope: "team:alpha",
  period: "month" as const,
  start: Date.UTC(2026, 10, 1),
  end: Date.UTC(2026, 11, 1),
  capMicros: 10_000_000,
};

Deno.test("a settlement crosses each threshold between its spend before and after, once", () => {
  const t = [50, 80, 100];
  assert.deepEqual(crossedThresholds(10_000_000, { beforeMicros: 0, afterMicros: 4_999_999 }, t), []);
  assert.deepEqual(crossedThresholds(10_000_000, { beforeMicros: 4_000_000, afterMicros: 5_000_000 }, t), [
    50,
  ]);
  assert.deepEqual(crossedThresholds(10_000_000, { beforeMicros: 7_000_000, afterMicros: 12_000_000 }, t), [
    80,
    100,
  ]);
  assert.deepEqual(crossedThresholds(10_000_000, { beforeMicros: 5_000_000, afterMicros: 6_000_000 }, t), []);
});

Deno.test("retries back off exponentially up to the cap", () => {
  const config = { retryBaseMs: 1000, retryMaxMs: 5000 };
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelay(n, config)), [1000, 2000, 4000, 5000, 5000]);
});

Deno.test("budget alerts are keyed per budget period and threshold, throttle alerts per bucket and UTC day", () => {
  const origin = { gatewayId: "gw", at: WINDOW.start + 5, id: "a1" };
  assert.equal(budgetAlert(WINDOW, 8_000_000, 80, origin).dedupeKey, "budget|team:alpha|month|2026-11-01|80");
  const refusal = {
    bucket: "developer:bob|rpm:2",
    scope: "developer:bob",
    limit: "2 requests per minute",
    retryAfterSeconds: 30,
  };
  const morning = throttleAlert(refusal, { ...origin, at: Date.UTC(2026, 10, 3, 8) });
  const evening = throttleAlert(refusal, { ...origin, at: Date.UTC(2026, 10, 3, 20) });
  assert.equal(morning.dedupeKey, evening.dedupeKey);
  assert.equal(JSON.parse(morning.payload).periodStart, "2026-11-03T00:00:00.000Z");
});

Deno.test("a webhook whose secret file cannot be read stops the start with its index and path", async () => {
  await assert.rejects(
    resolveWebhooks([{ url: "https://hooks.example.com/x", secretFile: "/nonexistent/recondo-secret" }]),
    /alerts.webhooks\[0\].secretFile names \/nonexistent\/recondo-secret, which cannot be read/,
  );
});

testBothEngines(
  "an alert a crashed replica claimed but never sent is delivered by another",
  async ({ db, openAnother }) => {
    const receiver = startWebhookReceiver({ secret: "s" });
    const config = alertsSchema.parse({
      webhooks: [{ url: `${receiver.origin}/hook` }],
      pollSeconds: 1,
      timeoutMs: 1000,
    });
    const [target] = await resolveWebhooks(config.webhooks);
    const now = Date.now();
    // Replica A raised two alerts; it crashed before sending the first and while sending the second.
    const first = budgetAlert(WINDOW, 5_000_000, 50, { gatewayId: "gw-a", at: now, id: crypto.randomUUID() });
    const second = budgetAlert(WINDOW, 8_000_000, 80, {
      gatewayId: "gw-a",
      at: now,
      id: crypto.randomUUID(),
    });
    assert.equal(await claimAlert(db, first, [target]), true);
    assert.equal(await claimAlert(db, second, [target]), true);
    assert.equal(
      await claimAlert(db, { ...first, id: crypto.randomUUID() }, [target]),
      false,
      "the key is taken",
    );
    const due = {
      alertId: second.id,
      webhookId: target.id,
      attempts: 0,
      nextAttemptAt: now,
      payload: second.payload,
    };
    assert.equal(await leaseDelivery(db, due, { at: now, leaseUntil: now + 300 }), true);
    assert.equal(
      await leaseDelivery(db, due, { at: now, leaseUntil: now + 300 }),
      false,
      "one lease at a time",
    );

    const other = await openAnother();
    const notifier = await startAlertNotifier(other, config, { gatewayId: "gw-b" });
    try {
      await receiver.waitFor((posts) => posts.length >= 2, 10_000);
      await notifier.idle();
      assert.deepEqual(receiver.posts.map((p) => p.alertId).sort(), [first.id, second.id].sort());
      const rows = await listAlerts(db);
      assert.deepEqual(rows.map((r) => r.deliveries[0].status), ["delivered", "delivered"]);
      assert.equal(rows.find((r) => r.id === second.id)!.deliveries[0].attempts, 2, "the lost lease counts");
    } finally {
      await notifier.close();
      await receiver.close();
    }
  },
);

testBothEngines(
  "a webhook that never answers 2xx is given up as failed after maxAttempts",
  async ({ db }) => {
    const receiver = startWebhookReceiver({ secret: "s", failFirst: { "/down": 100 } });
    const config = alertsSchema.parse({
      webhooks: [{ url: `${receiver.origin}/down` }],
      maxAttempts: 3,
      retryBaseMs: 50,
      pollSeconds: 1,
    });
    const notifier = await startAlertNotifier(db, config, { gatewayId: "gw" });
    try {
      notifier.sink.budgetSettled(WINDOW, { beforeMicros: 0, afterMicros: 6_000_000 }, Date.now());
      await receiver.waitFor((posts) => posts.length >= 3, 10_000);
      await notifier.idle();
      const [row] = await listAlerts(db);
      assert.equal(row.deliveries[0].status, "failed");
      assert.equal(row.deliveries[0].attempts, 3);
      assert.equal(row.deliveries[0].lastError, "HTTP 500");
      assert.equal(receiver.posts.length, 3);
    } finally {
      await notifier.close();
      await receiver.close();
    }
  },
);

testBothEngines(
  "reconfigure: no alerts block raises nothing, a new one applies to the next alert, a bad one changes nothing",
  async ({ db }) => {
    const receiver = startWebhookReceiver({ secret: "s" });
    const notifier = await startAlertNotifier(db, null, { gatewayId: "gw" });
    const urlFile = await Deno.makeTempFile(); // 0600
    try {
      notifier.sink.budgetSettled(WINDOW, { beforeMicros: 0, afterMicros: 6_000_000 }, Date.now());
      await notifier.idle();
      assert.deepEqual(await listAlerts(db), [], "no alerts block: nothing raised");

      await Deno.writeTextFile(urlFile, `${receiver.origin}/hook\n`);
      const config = alertsSchema.parse({ webhooks: [{ urlFile }], thresholds: [50, 80], pollSeconds: 1 });
      await notifier.reconfigure(config);
      notifier.sink.budgetSettled(WINDOW, { beforeMicros: 0, afterMicros: 6_000_000 }, Date.now());
      await receiver.waitFor((posts) => posts.length >= 1, 10_000);
      assert.equal(receiver.posts[0].json.threshold, 50);

      await Deno.writeTextFile(urlFile, "not a url");
      await assert.rejects(
        notifier.reconfigure(config),
        /urlFile names .*, which holds no http:\/\/ or https:\/\/ URL/,
      );
      notifier.sink.budgetSettled(WINDOW, { beforeMicros: 6_000_000, afterMicros: 8_500_000 }, Date.now());
      await receiver.waitFor((posts) => posts.length >= 2, 10_000);
      assert.equal(receiver.posts[1].json.threshold, 80, "the running webhooks stayed");
      assert.equal(receiver.posts[1].path, "/hook");
    } finally {
      await notifier.close();
      await receiver.close();
      await Deno.remove(urlFile);
    }
  },
);

Deno.test("a webhook needs exactly one of url and urlFile, and a URL file others can read is refused", async () => {
  assert.equal(alertsSchema.safeParse({ webhooks: [{}] }).success, false);
  assert.equal(
    alertsSchema.safeParse({ webhooks: [{ url: "https://a.example/x", urlFile: "/f" }] }).success,
    false,
  );
  const urlFile = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(urlFile, "https://hooks.example.com/secret-path");
    await Deno.chmod(urlFile, 0o644);
    await assert.rejects(
      resolveWebhooks([{ urlFile }]),
      (error: Error) =>
        /urlFile names .*readable by group or others/.test(error.message) &&
        !error.message.includes("secret-path"),
    );
    await Deno.chmod(urlFile, 0o600);
    const [hook] = await resolveWebhooks([{ urlFile }]);
    assert.deepEqual([hook.url, hook.host], ["https://hooks.example.com/secret-path", "hooks.example.com"]);
  } finally {
    await Deno.remove(urlFile);
  }
});

testBothEngines(
  "an alert the database refuses to record is claimed again after a backoff, not lost for its period",
  async ({ db }) => {
    const receiver = startWebhookReceiver({ secret: "s" });
    let refusals = 2;
    // The database refuses the first two claims (a connection lost, a failover), then recovers.
    const flaky = {
      ...db,
      engine: db.engine,
      run: db.run.bind(db),
      query: db.query.bind(db),
      exec: db.exec.bind(db),
      close: db.close.bind(db),
      transaction<T>(
        fn: (tx: Parameters<Parameters<typeof db.transaction>[0]>[0]) => Promise<T>,
      ): Promise<T> {
        if (refusals > 0) {
          refusals--;
          return Promise.reject(new Error("connection terminated unexpectedly"));
        }
        return db.transaction(fn);
      },
    } as typeof db;
    const config = alertsSchema.parse({
      webhooks: [{ url: `${receiver.origin}/hook` }],
      retryBaseMs: 50,
      pollSeconds: 1,
    });
    const notifier = await startAlertNotifier(flaky, config, { gatewayId: "gw" });
    try {
      notifier.sink.budgetSettled(WINDOW, { beforeMicros: 0, afterMicros: 6_000_000 }, Date.now());
      await receiver.waitFor((posts) => posts.length >= 1, 10_000);
      assert.equal(refusals, 0, "both refusals were met");
      assert.equal(receiver.posts[0].json.threshold, 50);
      const rows = await listAlerts(db);
      assert.equal(rows.length, 1);
    } finally {
      await notifier.close();
      await receiver.close();
    }
  },
);
